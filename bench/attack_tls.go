package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// The client-certificate scope attack: a TLS site asks for (but does not
// verify) client certificates; Alice and Bob present different ones and no
// other credential. The default scope must tell them apart.

const tlsServerName = "attack.local"

// selfSigned makes a self-signed ECDSA certificate for name.
func selfSigned(name string, server bool) (tls.Certificate, []byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{name}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	return c, certPEM, keyPEM, err
}

// writeServerCert writes a server certificate and key into dir and
// returns their paths.
func writeServerCert(dir string) (certFile, keyFile string, err error) {
	_, c, k, err := selfSigned(tlsServerName, true)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, c, 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, os.WriteFile(keyFile, k, 0o600)
}

// tlsClients returns one HTTP client per client certificate (Alice, Bob),
// dialing addr whatever the URL's host: the URL names tlsServerName, so
// the Host header matches the SNI, as Caddy requires when it asks for
// client certificates.
func tlsClients(addr string) ([2]*http.Client, error) {
	var out [2]*http.Client
	for i, name := range []string{"alice", "bob"} {
		c, _, _, err := selfSigned(name, false)
		if err != nil {
			return out, err
		}
		out[i] = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			TLSClientConfig:    &tls.Config{ServerName: tlsServerName, InsecureSkipVerify: true, Certificates: []tls.Certificate{c}},
			DisableCompression: true,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			},
		}}
	}
	return out, nil
}

func scopeClientCert(e *attackEnv, t *tally, it int) {
	if e.tlsURL == "" {
		t.fail("the TLS site did not start")
		return
	}
	n := e.next()
	body := chatJSON(fmt.Sprintf("Show my account balance and last orders, request %d", n), "")
	alice, bob := e.label("scope-client-cert", it, "alice"), e.label("scope-client-cert", it, "bob")
	url := e.tlsURL + "/v1/chat/completions"
	e.sendWith(e.tlsClients[0], t, attackReq{method: http.MethodPost, url: url, header: hdr(hdrLabel, alice), body: body})
	a := e.sendWith(e.tlsClients[1], t, attackReq{method: http.MethodPost, url: url, header: hdr(hdrLabel, bob), body: body})
	t.expectOwn(a, bob, "client certificate")
}
