package graph

// Exported for the benchmarks in package graph_test, which need the simulator.
var ScanPage = scanPage

// EnvelopePage reads a page the way every page was read before scanPage.
func EnvelopePage(body []byte) error {
	_, err := envelopeHead(body)
	return err
}
