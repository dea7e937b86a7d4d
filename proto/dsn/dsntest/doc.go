// Package dsntest reads a whole delivery status notification back into a
// dsn.Report, for tests that check what mailx sent: the queue's bounces and
// delay notices, the lab's, dsn.Build's own output.
//
// It reads with the parsers mailx ships: proto/mime walks the message, as
// `mailx mime decode` and the explorers' \view do, and dsn.ParseStatus reads
// the message/delivery-status part. So a test that reads a bounce through it
// also checks that mailx's own tools understand that bounce. It is imported
// only by tests.
//
// RFCs: 3464 (DSN), 6522 (multipart/report), 6533 (message/global-delivery-status).
package dsntest
