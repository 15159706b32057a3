//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package importer

// closedWhileIdle cannot peek at a socket here: a connection the server
// closed while idle fails its next request, which the importer retries.
func closedWhileIdle(*h1Conn) bool { return false }
