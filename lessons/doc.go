// Package lessons holds mailx's guided labs: the lesson file format, its
// validator, the built-in lessons (embedded with go:embed), the runner that
// starts a lab, guides the student step by step inside the real explorer and
// checks each step as it happens, and the re-checker used for auto-grading.
//
// A lesson is a YAML file; lessons/README.md documents the format for
// teachers (embedded, and printed by `mailx lessons format`). Validation
// reports every mistake with its line number, so the parser works on
// yaml.Node trees rather than decoding into structs blindly.
//
// Checks are on meaning, never on spelling: a talk step states the protocol
// state reached, the reply class, the SMTP envelope or the EHLO extensions,
// as the explorer tracked them with proto's state tables; a run step states
// options, the exit code and facts read from the output (MX exchangers in any
// output format); a check step states a lab outcome (a message from X in Y's
// mailbox, a queue entry in a state). Hints are chosen by what happened.
// Every lesson carries answer scripts, right and wrong, that PlayAnswer
// plays against a real lab; go test plays those of the built-in lessons.
//
// The package does not render anything itself: the runner reports through
// explore/render like every other mailx command, and it does not know about
// cobra. It starts labs through the server package and sessions through the
// explore package, and runs shell-level mailx commands through a function
// that cmd supplies (cmd imports lessons, never the other way round).
package lessons
