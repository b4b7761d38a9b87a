package daemon

import "net"

func listenOn(ip, port string) (net.Listener, error) {
	if port == "" {
		port = "0"
	}
	return net.Listen("tcp", net.JoinHostPort(ip, port))
}
