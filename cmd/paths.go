package cmd

import (
	"os"
	"path/filepath"
	"runtime"
)

// stateDir returns the directory where mailx keeps what it must remember
// between runs: `serve`'s default data, readline history, lesson progress.
//
// MAILX_HOME overrides it (tests and classroom machines use that). Otherwise
// it follows each platform's convention: $XDG_STATE_HOME/mailx or
// ~/.local/state/mailx on Linux and BSD, ~/Library/Application Support/mailx
// on macOS, %LocalAppData%\mailx on Windows.
func (ios *IOStreams) stateDir() (string, error) {
	if d := ios.getenv("MAILX_HOME"); d != "" {
		return d, nil
	}
	switch runtime.GOOS {
	case "windows":
		if d := ios.getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "mailx"), nil
		}
		d, err := os.UserConfigDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(d, "mailx"), nil
	case "darwin", "ios":
		d, err := os.UserConfigDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(d, "mailx"), nil
	}
	if d := ios.getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "mailx"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "state", "mailx"), nil
}

// StateDir is stateDir creating the directory if needed; the error says what
// to do when there is no usable home directory.
func (ios *IOStreams) StateDir() (string, error) {
	d, err := ios.stateDir()
	if err != nil {
		return "", failure("Set MAILX_HOME to a directory mailx may write to.", "cannot find a state directory: %w", err)
	}
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", failure("Set MAILX_HOME to a directory mailx may write to.", "cannot create state directory %s: %w", d, err)
	}
	return d, nil
}
