package imap

import (
	"fmt"
	"strings"

	"github.com/mailx-edu/mailx/proto/note"
)

// ResponseCodes explains the codes in brackets after OK, NO, BAD, PREAUTH
// and BYE, keyed by the upper-case code (RFC 3501 §7.1, RFC 5530).
var ResponseCodes = map[string]note.Note{
	"ALERT":                {Summary: "[ALERT]: a message the server wants shown to the user as is", Ref: "RFC 3501 §7.1", Severity: note.Warning},
	"BADCHARSET":           {Summary: "[BADCHARSET]: SEARCH used a character set the server does not support; it lists those it does", Ref: "RFC 3501 §7.1"},
	"CAPABILITY":           {Summary: "[CAPABILITY]: the server's capabilities, sent unasked so the client can skip a CAPABILITY command", Ref: "RFC 3501 §7.1"},
	"PARSE":                {Summary: "[PARSE]: the server could not parse a message's headers or MIME structure", Ref: "RFC 3501 §7.1", Severity: note.Warning},
	"PERMANENTFLAGS":       {Summary: "[PERMANENTFLAGS]: the flags a client can change for good in this mailbox; \\* means new keywords may be created", Ref: "RFC 3501 §7.1"},
	"READ-ONLY":            {Summary: "[READ-ONLY]: the mailbox is open read-only (EXAMINE, or no write permission): flags will not change", Ref: "RFC 3501 §7.1"},
	"READ-WRITE":           {Summary: "[READ-WRITE]: the mailbox is open read-write: reading a message sets \\Seen, STORE and EXPUNGE work", Ref: "RFC 3501 §7.1"},
	"TRYCREATE":            {Summary: "[TRYCREATE]: the target mailbox does not exist; CREATE it and try again", Ref: "RFC 3501 §7.1", Severity: note.Warning},
	"UIDNEXT":              {Summary: "[UIDNEXT]: the UID the next message to arrive will get; a client can tell new mail from this alone", Ref: "RFC 3501 §7.1"},
	"UIDVALIDITY":          {Summary: "[UIDVALIDITY]: the UIDs of this mailbox stay valid as long as this number does not change", Detail: "A client caches messages by (UIDVALIDITY, UID); if the number changes, the cache must be thrown away.", Ref: "RFC 3501 §2.3.1.1"},
	"UNSEEN":               {Summary: "[UNSEEN]: the number of the first message without the \\Seen flag", Ref: "RFC 3501 §7.1"},
	"APPENDUID":            {Summary: "[APPENDUID]: UIDVALIDITY and the UID the appended message got", Ref: "RFC 4315 §3"},
	"COPYUID":              {Summary: "[COPYUID]: UIDVALIDITY of the target, the source UIDs and the UIDs of the copies", Ref: "RFC 4315 §3"},
	"UIDNOTSTICKY":         {Summary: "[UIDNOTSTICKY]: this mailbox cannot keep UIDs across sessions", Ref: "RFC 4315 §3", Severity: note.Warning},
	"HIGHESTMODSEQ":        {Summary: "[HIGHESTMODSEQ]: the mailbox's change counter (CONDSTORE), for quick resynchronisation", Ref: "RFC 7162 §3.1.2.1"},
	"NOMODSEQ":             {Summary: "[NOMODSEQ]: this mailbox keeps no change counter", Ref: "RFC 7162 §3.1.2.2"},
	"CLOSED":               {Summary: "[CLOSED]: the previously selected mailbox is now closed", Ref: "RFC 7162 §3.2.11"},
	"UNAVAILABLE":          {Summary: "[UNAVAILABLE]: a temporary failure on the server; try again later", Ref: "RFC 5530 §3", Severity: note.Warning},
	"AUTHENTICATIONFAILED": {Summary: "[AUTHENTICATIONFAILED]: wrong name or password, or the method is refused", Next: "Check the credentials", Ref: "RFC 5530 §3", Severity: note.Error},
	"AUTHORIZATIONFAILED":  {Summary: "[AUTHORIZATIONFAILED]: the credentials are right, but you may not act as that user", Ref: "RFC 5530 §3", Severity: note.Error},
	"EXPIRED":              {Summary: "[EXPIRED]: the credentials have expired", Ref: "RFC 5530 §3", Severity: note.Error},
	"PRIVACYREQUIRED":      {Summary: "[PRIVACYREQUIRED]: the server wants TLS first", Next: "STARTTLS, or connect with --tls", Ref: "RFC 5530 §3", Severity: note.Error},
	"CONTACTADMIN":         {Summary: "[CONTACTADMIN]: ask the server's administrator", Ref: "RFC 5530 §3", Severity: note.Error},
	"NOPERM":               {Summary: "[NOPERM]: you lack the permission (ACL) for this", Ref: "RFC 5530 §3", Severity: note.Error},
	"INUSE":                {Summary: "[INUSE]: someone else is using the resource; try again later", Ref: "RFC 5530 §3", Severity: note.Warning},
	"EXPUNGEISSUED":        {Summary: "[EXPUNGEISSUED]: another session expunged messages meanwhile; numbers may have shifted", Ref: "RFC 5530 §3", Severity: note.Warning},
	"CORRUPTION":           {Summary: "[CORRUPTION]: the server found damaged data", Ref: "RFC 5530 §3", Severity: note.Error},
	"SERVERBUG":            {Summary: "[SERVERBUG]: the server admits a bug", Ref: "RFC 5530 §3", Severity: note.Error},
	"CLIENTBUG":            {Summary: "[CLIENTBUG]: the server thinks the client did something wrong, though it carried on", Ref: "RFC 5530 §3", Severity: note.Warning},
	"CANNOT":               {Summary: "[CANNOT]: the operation breaks a rule of the server and never will work", Ref: "RFC 5530 §3", Severity: note.Error},
	"LIMIT":                {Summary: "[LIMIT]: a server limit was hit (too many messages, too big)", Ref: "RFC 5530 §3", Severity: note.Error},
	"OVERQUOTA":            {Summary: "[OVERQUOTA]: the mailbox is over its quota", Ref: "RFC 5530 §3", Severity: note.Error},
	"ALREADYEXISTS":        {Summary: "[ALREADYEXISTS]: a mailbox with that name exists already", Ref: "RFC 5530 §3", Severity: note.Warning},
	"NONEXISTENT":          {Summary: "[NONEXISTENT]: no such mailbox", Next: "LIST \"\" * shows the mailboxes that exist", Ref: "RFC 5530 §3", Severity: note.Warning},
}

// UntaggedResponses explains the untagged responses by keyword (RFC 3501 §7.2-7.4).
var UntaggedResponses = map[string]note.Note{
	"OK":         {Summary: "* OK: information from the server", Ref: "RFC 3501 §7.1.1"},
	"NO":         {Summary: "* NO: a warning from the server (not the failure of a command)", Ref: "RFC 3501 §7.1.2", Severity: note.Warning},
	"BAD":        {Summary: "* BAD: the server could not parse something it cannot tie to a command", Ref: "RFC 3501 §7.1.3", Severity: note.Error},
	"PREAUTH":    {Summary: "* PREAUTH: the connection is already logged in (the server knows you by other means): Authenticated state", Ref: "RFC 3501 §7.1.4", Severity: note.Success},
	"BYE":        {Summary: "* BYE: the server is closing the connection", Detail: "After LOGOUT this is normal; at any other time the server is shutting down or you were idle too long (30 minutes at least, RFC 3501 §5.4).", Ref: "RFC 3501 §7.1.5"},
	"CAPABILITY": {Summary: "* CAPABILITY: the IMAP version and the extensions this server supports", Ref: "RFC 3501 §7.2.1"},
	"LIST":       {Summary: "* LIST: one mailbox: its attributes, the hierarchy separator, its name", Ref: "RFC 3501 §7.2.2"},
	"LSUB":       {Summary: "* LSUB: one subscribed mailbox: attributes, separator, name", Ref: "RFC 3501 §7.2.3"},
	"STATUS":     {Summary: "* STATUS: the counters of a mailbox you asked about", Ref: "RFC 3501 §7.2.4"},
	"SEARCH":     {Summary: "* SEARCH: the numbers (or UIDs, for UID SEARCH) of the matching messages", Ref: "RFC 3501 §7.2.5"},
	"ESEARCH":    {Summary: "* ESEARCH: search results in the compact extended form", Ref: "RFC 4731 §3.1"},
	"FLAGS":      {Summary: "* FLAGS: the flags defined in this mailbox", Ref: "RFC 3501 §7.2.6"},
	"EXISTS":     {Summary: "* n EXISTS: the mailbox now holds n messages", Ref: "RFC 3501 §7.3.1"},
	"RECENT":     {Summary: "* n RECENT: n messages arrived since the last session looked (the \\Recent flag)", Ref: "RFC 3501 §7.3.2"},
	"EXPUNGE":    {Summary: "* n EXPUNGE: message n is gone; every later message's number drops by one", Detail: "That is why clients prefer UIDs, which never shift.", Ref: "RFC 3501 §7.4.1"},
	"FETCH":      {Summary: "* n FETCH: data about message n (flags, envelope, parts of the message)", Ref: "RFC 3501 §7.4.2"},
	"NAMESPACE":  {Summary: "* NAMESPACE: personal, other users' and shared prefixes, each with its hierarchy separator (NIL: none)", Ref: "RFC 2342 §5"},
	"ENABLED":    {Summary: "* ENABLED: the extensions now turned on", Ref: "RFC 5161 §3.2"},
	"ID":         {Summary: "* ID: the server's name and version", Ref: "RFC 2971 §3.2"},
	"VANISHED":   {Summary: "* VANISHED: the UIDs of messages expunged (QRESYNC)", Ref: "RFC 7162 §3.2.10"},
}

// Capabilities explains the capability names a server lists. Names with
// "=" (AUTH=PLAIN) are looked up by the part before it.
var Capabilities = map[string]string{
	"IMAP4REV1":         "IMAP version 4 revision 1 (RFC 3501), the version every client speaks",
	"IMAP4REV2":         "IMAP version 4 revision 2 (RFC 9051), the 2021 update",
	"STARTTLS":          "the connection can be upgraded to TLS (RFC 3501 §6.2.1)",
	"LOGINDISABLED":     "LOGIN is refused until TLS is up (RFC 3501 §6.2.3)",
	"AUTH":              "AUTHENTICATE accepts this SASL mechanism (RFC 3501 §6.2.2)",
	"SASL-IR":           "AUTHENTICATE may carry the first answer on the same line (RFC 4959)",
	"IDLE":              "IDLE: the server pushes new mail as it arrives (RFC 2177)",
	"LITERAL+":          "literals {n+} may be sent without waiting for \"+\" (RFC 7888)",
	"LITERAL-":          "literals {n+} of up to 4096 octets may be sent without waiting (RFC 7888)",
	"UIDPLUS":           "APPEND and COPY report the new UIDs; UID EXPUNGE (RFC 4315)",
	"MOVE":              "MOVE moves messages in one step (RFC 6851)",
	"NAMESPACE":         "NAMESPACE tells the folder prefixes and separator (RFC 2342)",
	"ENABLE":            "ENABLE turns on extensions (RFC 5161)",
	"UNSELECT":          "UNSELECT closes a mailbox without expunging (RFC 3691)",
	"CHILDREN":          "LIST says which mailboxes have children (RFC 3348)",
	"SPECIAL-USE":       "LIST marks \\Sent, \\Drafts, \\Trash, \\Junk folders (RFC 6154)",
	"CONDSTORE":         "messages carry a change counter for quick resync (RFC 7162)",
	"QRESYNC":           "quick resynchronisation after reconnecting (RFC 7162)",
	"ID":                "client and server may exchange names and versions (RFC 2971)",
	"ESEARCH":           "SEARCH RETURN (MIN MAX COUNT) gives compact answers (RFC 4731)",
	"SORT":              "the server can sort messages (RFC 5256)",
	"THREAD":            "the server can group messages into threads (RFC 5256)",
	"QUOTA":             "quotas can be queried (RFC 9208)",
	"ACL":               "mailboxes have access control lists (RFC 4314)",
	"UTF8":              "mailbox names and messages may be UTF-8 once enabled (RFC 6855)",
	"LIST-EXTENDED":     "LIST takes selection and return options (RFC 5258)",
	"LIST-STATUS":       "LIST can return STATUS counters at once (RFC 5819)",
	"BINARY":            "messages can be fetched and stored without transfer encoding (RFC 3516)",
	"COMPRESS":          "the connection can be compressed (RFC 4978)",
	"SEARCHRES":         "a search result can be reused as $ (RFC 5182)",
	"WITHIN":            "SEARCH YOUNGER/OLDER by seconds (RFC 5032)",
	"STATUS":            "STATUS can report extra counters such as SIZE (RFC 8438)",
	"APPENDLIMIT":       "the largest message APPEND accepts (RFC 7889)",
	"METADATA":          "mailboxes and server carry annotations (RFC 5464)",
	"NOTIFY":            "the client chooses which changes are pushed (RFC 5465)",
	"I18NLEVEL":         "searching and sorting follow language rules (RFC 5255)",
	"CONTEXT":           "search results can be kept up to date (RFC 5267)",
	"SAVEDATE":          "messages carry the date they were saved (RFC 8514)",
	"OBJECTID":          "mailboxes and messages carry stable ids (RFC 8474)",
	"PREVIEW":           "FETCH PREVIEW gives a short text of each message (RFC 8970)",
	"MULTIAPPEND":       "APPEND can upload several messages at once (RFC 3502)",
	"URLAUTH":           "messages can be referred to by authorized URLs (RFC 4467)",
	"CATENATE":          "APPEND can build a message from parts of others (RFC 4469)",
	"LOGIN-REFERRALS":   "the server may point to another server at login (RFC 2221)",
	"MAILBOX-REFERRALS": "the server may point to another server for a mailbox (RFC 2193)",
}

// ExplainCapabilities explains a capability list ("IMAP4rev1 STARTTLS
// AUTH=PLAIN IDLE ...") as one note with a line per known name.
func ExplainCapabilities(list string) note.Note {
	var b strings.Builder
	var names []string
	for _, c := range strings.Fields(list) {
		names = append(names, c)
		key, mech, _ := strings.Cut(strings.ToUpper(c), "=")
		text := Capabilities[key]
		if text == "" {
			continue
		}
		if mech != "" {
			text += ": " + mech
		}
		fmt.Fprintf(&b, "%-14s %s\n", c, text)
	}
	n := note.Note{Summary: fmt.Sprintf("%d capabilities", len(names)), Detail: strings.TrimRight(b.String(), "\n"), Ref: "RFC 3501 §7.2.1"}
	return n
}

// HasCapability reports whether a capability list contains name
// (case-insensitively).
func HasCapability(list, name string) bool {
	for _, c := range strings.Fields(list) {
		if strings.EqualFold(c, name) {
			return true
		}
	}
	return false
}
