package auth

import (
	"context"
	"crypto"
	_ "crypto/sha512" // SHA-384 and SHA-512 for channel binding
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// LoadTLS reads a PEM certificate chain and its private key (PEM) and
// returns the server's TLS configuration, TLS 1.2 at least.
func LoadTLS(certFile, keyFile string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("TLS needs both a certificate (--tls-cert) and its private key (--tls-key)")
	}
	for _, f := range []string{certFile, keyFile} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("TLS: %w", err)
		}
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS: loading certificate %s and key %s: %w (both must be PEM, the key the certificate's own)", certFile, keyFile, err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("TLS: certificate %s: %w", certFile, err)
		}
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
	}, nil
}

// BindCertificate enables SCRAM-SHA-256-PLUS, whose tls-server-end-point
// channel binding (RFC 5929) ties a client's proof to the certificate
// the server presents, cert (DER), so that a man in the middle holding
// another certificate cannot relay the exchange. connTLS reports whether
// the connection being authenticated (named by Authenticate's ctx) uses
// TLS: PLUS is offered on those only, since libpq refuses a server that
// offers it on a plain connection. Call it before serving.
func (u *Users) BindCertificate(der []byte, connTLS func(ctx context.Context) bool) error {
	if connTLS == nil {
		return errors.New("channel binding: no way to tell TLS connections from plain ones")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("channel binding: %w", err)
	}
	h, err := endPointHash(cert)
	if err != nil {
		return err
	}
	hh := h.New()
	hh.Write(cert.Raw)
	u.cbHash, u.connTLS = hh.Sum(nil), connTLS
	return nil
}

// endPointHash is RFC 5929 section 4.1's hash: the certificate's
// signature hash, SHA-256 in place of MD5 and SHA-1.
func endPointHash(cert *x509.Certificate) (crypto.Hash, error) {
	switch cert.SignatureAlgorithm {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1,
		x509.SHA256WithRSA, x509.SHA256WithRSAPSS, x509.ECDSAWithSHA256, x509.DSAWithSHA256:
		return crypto.SHA256, nil
	case x509.SHA384WithRSA, x509.SHA384WithRSAPSS, x509.ECDSAWithSHA384:
		return crypto.SHA384, nil
	case x509.SHA512WithRSA, x509.SHA512WithRSAPSS, x509.ECDSAWithSHA512:
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("channel binding: tls-server-end-point is undefined for certificate signature algorithm %v", cert.SignatureAlgorithm)
}
