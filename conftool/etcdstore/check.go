package etcdstore

import "errors"

// Check validates the settings and reads the TLS material they name,
// without contacting etcd, so `checkconf` works while etcd is down. Client
// cannot be used for that: with a user it authenticates at once.
func (c ClientConfig) Check() error {
	if len(c.Endpoints) == 0 {
		return errors.New("etcd: no endpoints")
	}
	if c.User == "" && c.Password != "" {
		return errors.New("etcd: a password without a user")
	}
	_, err := c.tls()
	return err
}
