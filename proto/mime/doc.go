// Package mime is mailx's one body of knowledge about message format: it
// takes messages apart into an annotated tree and builds them from parts.
//
// Decoding: Parse reads an RFC 5322 message and returns a *Tree: the header
// fields (each RFC 2047 encoded-word raw and decoded), the hops of its
// Received fields read bottom-up with the delay between them, and the body as
// parts numbered as IMAP numbers them (1, 1.2, ...), each with its type and
// parameters, charset, transfer encoding, disposition, file name, raw and
// decoded sizes, a short preview of text decoded to UTF-8, and warnings for
// anything malformed. Parse streams: content passes through Options.OnPart as
// an io.Reader (so attachments can be written out as they are read) and the
// tree keeps only previews, so memory stays bounded; Limits cap nesting,
// header size and the number of parts.
//
//	tree, err := mime.Parse(r, mime.Options{
//		OnPart: func(p *mime.Part, content io.Reader) error { ... },
//	})
//
// Encoding: Compose (or Encode, to stream) builds a message from a Message:
//
//	raw, err := mime.Compose(mime.Message{
//		From: "Alice <alice@crepes.fr>", To: []string{"bob@hamburger.edu"},
//		Subject: "Crêpe", Text: "Dear Bob,\n...",
//		Attachments: []mime.Attachment{{Path: "crepe.jpg"}},
//		CRLF: true, // lines end in CRLF, ready for SMTP DATA
//	})
//
// It writes Date, Message-ID and MIME-Version, makes text/plain alone,
// multipart/alternative for text and HTML, multipart/mixed with attachments,
// guesses attachment types from the extension and then the content, picks
// 7bit, quoted-printable or base64 per part and says why (Layout), encodes
// non-ASCII header text as encoded-words, and keeps lines within 78
// characters where it can (never over 998).
//
// Small codecs for the lessons: EncodeWords/DecodeWords (RFC 2047), and the
// standard library's encoding/base64 and mime/quotedprintable, which this
// package uses rather than reimplements, as do the charset decoders of
// golang.org/x/text (LookupCharset).
//
// Explanations are data (note.Note): HeaderNote, TypeNote, EncodingNote; how
// they look is explore/mimeview's business. This package does no terminal
// output and no file I/O beyond reading an attachment's Path.
//
// RFCs: 5322 (message format), 2045-2049 (MIME; 2047 encoded-words),
// 2183 (Content-Disposition), 2231 (parameter encoding), 3501 §6.4.5 (part
// numbers), 5321 §4.4 (Received), 6376 (DKIM), 2369 and 8058 (List-Unsubscribe).
package mime
