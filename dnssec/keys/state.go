package keys

import "time"

// At says what z's keys do at t. Placeholder until timing is read: every
// key is published and active.
func (z *ZoneKeys) At(t time.Time) State {
	var s State
	for _, k := range z.Keys {
		s.DNSKEY = append(s.DNSKEY, k.DNSKEY)
		if k.KSK() {
			s.KSK = append(s.KSK, k)
		} else {
			s.ZSK = append(s.ZSK, k)
		}
	}
	if len(s.ZSK) == 0 {
		s.ZSK = s.KSK
	}
	return s
}
