// Package mimeview shows a parsed message (a proto/mime Tree) through the
// render layer: the header with each field's meaning, the Received hops, and
// the part tree with previews and warnings, as plain text, colour or JSON.
// It also annotates a message mailx composed (`mailx mime encode --explain`).
//
// `mailx mime decode` uses it, and so can any session that retrieves a
// message (the POP3 explorer's \view). It holds no MIME knowledge of its own:
// meanings come from proto/mime as note.Note values, and it does no I/O
// beyond writing to the Renderer.
//
// RFCs: those of proto/mime (5322, 2045-2049, 2183, 2231, 5321 §4.4).
package mimeview
