package dsn

// Names for the external tests in read_test.go.
var (
	SampleNotice = sampleNotice
	ValidStatus  = validStatus
	ValidAction  = validAction
	ASCIIOnly    = asciiOnly
	OneLine      = oneLine
	Arrival      = arrival
)
