package dnssec

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/geotraffic/geotraffic/dnssec/keys"
	"github.com/miekg/dns"
)

// signingKey is a key ready to sign: its algorithm, tag and signer.
type signingKey struct {
	alg    uint8
	tag    uint16
	signer crypto.Signer
}

func newSigningKey(k *keys.Key) (signingKey, error) {
	alg := k.DNSKEY.Algorithm
	if alg != dns.ECDSAP256SHA256 && alg != dns.ED25519 {
		return signingKey{}, fmt.Errorf("%s: algorithm %s (%d) cannot sign: only 13 and 15 are supported",
			k.File, dns.AlgorithmToString[alg], alg)
	}
	if k.Signer == nil {
		return signingKey{}, fmt.Errorf("%s: no private key", k.File)
	}
	return signingKey{alg: alg, tag: k.Tag(), signer: k.Signer}, nil
}

// rrsigFields are the RRSIG RDATA fields other than the key's.
type rrsigFields struct {
	typ        uint16
	labels     uint8
	ttl        uint32
	inception  uint32
	expiration uint32
	signer     []byte // lowercase wire apex
}

// sign returns the packed RRSIG RDATA (signer name uncompressed) by k over
// the canonical set (canonicalSet's output) at the lowercase wire owner.
func (k signingKey) sign(f rrsigFields, owner []byte, canon [][]byte) ([]byte, error) {
	rdata := make([]byte, 18, 18+len(f.signer)+64)
	binary.BigEndian.PutUint16(rdata[0:], f.typ)
	rdata[2] = k.alg
	rdata[3] = f.labels
	binary.BigEndian.PutUint32(rdata[4:], f.ttl)
	binary.BigEndian.PutUint32(rdata[8:], f.expiration)
	binary.BigEndian.PutUint32(rdata[12:], f.inception)
	binary.BigEndian.PutUint16(rdata[16:], k.tag)
	rdata = append(rdata, f.signer...)

	// RFC 4034 §3.1.8.1: the RRSIG RDATA without the signature, then
	// every RR in canonical form and order.
	size := len(rdata)
	for _, rd := range canon {
		size += len(owner) + 10 + len(rd)
	}
	data := make([]byte, 0, size)
	data = append(data, rdata...)
	for _, rd := range canon {
		data = append(data, owner...)
		data = binary.BigEndian.AppendUint16(data, f.typ)
		data = binary.BigEndian.AppendUint16(data, dns.ClassINET)
		data = binary.BigEndian.AppendUint32(data, f.ttl)
		data = binary.BigEndian.AppendUint16(data, uint16(len(rd)))
		data = append(data, rd...)
	}
	sig, err := k.raw(data)
	if err != nil {
		return nil, fmt.Errorf("key %d: %w", k.tag, err)
	}
	return append(rdata, sig...), nil
}

// raw signs data as the algorithm wants it on the wire: r||s (32 bytes
// each) for ECDSA P-256 (RFC 6605), the plain signature for Ed25519.
func (k signingKey) raw(data []byte) ([]byte, error) {
	if k.alg == dns.ED25519 {
		return k.signer.Sign(rand.Reader, data, crypto.Hash(0))
	}
	digest := sha256.Sum256(data)
	der, err := k.signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("ECDSA signature is not DER: %v", err)
	}
	out := make([]byte, 64)
	if rs.R.Sign() <= 0 || rs.S.Sign() <= 0 || rs.R.BitLen() > 256 || rs.S.BitLen() > 256 {
		return nil, fmt.Errorf("ECDSA signature out of range for P-256")
	}
	rs.R.FillBytes(out[:32])
	rs.S.FillBytes(out[32:])
	return out, nil
}
