package cmd

import (
	"errors"
	"fmt"
)

// Exit codes of mailx, documented in the README and in `mailx --help`.
const (
	ExitOK      = 0 // the operation succeeded
	ExitFailure = 1 // the operation ran and failed (lookup failed, message refused, ...)
	ExitUsage   = 2 // the command line was wrong: unknown flag, missing argument, bad value
)

// UserError is an error meant for a person: what happened, and what to try.
// Main prints it as
//
//	mailx: cannot connect to 127.0.0.1:2525: connection refused
//	Is a server listening there? For a local one, run in another terminal: mailx serve
//
// and exits with Code.
type UserError struct {
	Msg  string // what happened, lower case, no trailing period
	Hint string // what to try next; may be empty
	Code int    // ExitFailure or ExitUsage (0 means ExitFailure)
	Err  error  // the cause, for errors.Is/As
}

func (e *UserError) Error() string { return e.Msg }

// Unwrap returns the cause.
func (e *UserError) Unwrap() error { return e.Err }

// failure builds a UserError that exits 1.
func failure(hint string, format string, args ...any) *UserError {
	err := fmt.Errorf(format, args...)
	return &UserError{Msg: err.Error(), Hint: hint, Code: ExitFailure, Err: errors.Unwrap(err)}
}

// usageError builds a UserError that exits 2.
func usageError(hint string, format string, args ...any) *UserError {
	err := fmt.Errorf(format, args...)
	return &UserError{Msg: err.Error(), Hint: hint, Code: ExitUsage, Err: errors.Unwrap(err)}
}

// SilentError ends a command with a non-zero exit after the command has
// already told the user everything (for example a session transcript whose
// last lines show the failure).
type SilentError struct{ Code int }

func (e *SilentError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }
