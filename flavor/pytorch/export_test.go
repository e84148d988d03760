package pytorch

// DownloadFrom makes pretrained weights download from base (a loopback
// http:// server) until the returned function restores the defaults.
func DownloadFrom(base string) (restore func()) {
	allowHTTP, downloadBase = true, base
	return func() { allowHTTP, downloadBase = false, "" }
}
