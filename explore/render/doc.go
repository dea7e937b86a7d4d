// Package render is the one output layer every mailx command uses, so that all
// of mailx looks alike: a heading, a line sent (C:), a line received (S:), an
// annotation, a warning and an error, as coloured text, plain text or JSON.
//
// Plain mode (no colour) stays unambiguous because students paste it into lab
// reports and golden files compare it byte for byte:
//
//	== Connected to 127.0.0.1:2525
//	S: 220 mx.test ESMTP mailx
//	   note: 220 = service ready: the server greets you.  [RFC 5321 §4.2]
//	   next: introduce yourself with EHLO your.name
//	C: EHLO me
//	   warning: the address needs angle brackets
//	error: connection closed
//
// Colour is decided once, by whoever builds the Renderer (cmd does it from the
// terminal, NO_COLOR and --no-color); this package never consults the
// environment and never uses the colour library's global switch.
//
// It is not the place for protocol knowledge: what a line means comes from
// proto as note.Note values.
package render
