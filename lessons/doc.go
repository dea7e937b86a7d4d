// Package lessons holds mailx's guided labs: the lesson file format, its
// validator, the built-in lessons (embedded with go:embed), the runner that
// starts a lab, guides the student step by step inside the real explorer and
// checks each step as it happens, and the re-checker used for auto-grading.
//
// A lesson is a YAML file; lessons/README.md documents the format for
// teachers. Validation reports every mistake with its line number, so the
// parser works on yaml.Node trees rather than decoding into structs blindly.
//
// The package does not render anything itself: the runner reports through
// explore/render like every other mailx command, and it does not know about
// cobra. It starts labs through the server package and sessions through the
// explore package, and runs shell-level mailx commands through a function
// that cmd supplies (cmd imports lessons, never the other way round).
package lessons
