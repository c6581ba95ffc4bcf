package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files, and returns
// their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "satmark test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)

	t.Run("ok, HTTPS with a Secure session cookie and HSTS", func(t *testing.T) {
		url, printed := startServe(t, t.TempDir(), "SATMARK_ADMIN_PASSWORD=chosen in advance",
			"SATMARK_TLS_CERT="+certFile, "SATMARK_TLS_KEY="+keyFile)
		if !strings.HasPrefix(url, "https://") || !strings.Contains(printed, url+"/login") {
			t.Fatalf("serve printed %q; want an https URL to sign in at", printed)
		}
		b := newClient(t)
		b.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
		code, me := b.signIn(t, url, "admin", "chosen in advance")
		if code != http.StatusCreated {
			t.Fatalf("sign in over HTTPS: %d %+v", code, me)
		}
		// The cookie as sent: Secure, HttpOnly, SameSite=Lax.
		res, err := b.Post(url+"/api/v1/session", "application/json", strings.NewReader(`{"name":"admin","password":"chosen in advance"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		var session *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == "satmark_session" {
				session = c
			}
		}
		if session == nil || !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
			t.Errorf("session cookie %+v; want Secure, HttpOnly, SameSite=Lax", session)
		}
		if got := res.Header.Get("Strict-Transport-Security"); !strings.Contains(got, "max-age=") {
			t.Errorf("Strict-Transport-Security = %q, want HSTS under TLS", got)
		}
		if code := b.call(t, http.MethodGet, url+"/api/v1/images", nil, nil); code != http.StatusOK {
			t.Errorf("GET /api/v1/images with the session over HTTPS: %d", code)
		}
		// Plain HTTP to the TLS port is not served.
		plain := strings.Replace(url, "https://", "http://", 1)
		if res, err := http.Get(plain + "/api/v1/health"); err == nil {
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("plain HTTP to the TLS port: %d, want 400 (or no answer)", res.StatusCode)
			}
		}
	})

	t.Run("nok, a certificate without its key stops the start with the reason", func(t *testing.T) {
		for _, env := range [][]string{
			{"SATMARK_TLS_CERT=" + certFile},
			{"SATMARK_TLS_CERT=" + certFile, "SATMARK_TLS_KEY=" + filepath.Join(t.TempDir(), "missing.pem")},
			{"SATMARK_TLS_CERT=" + keyFile, "SATMARK_TLS_KEY=" + certFile},
		} {
			out, err := command(t, env, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "--tls-cert and --tls-key") {
				t.Errorf("%v: got %v and %q; want a failure naming both flags", env, err, out)
			}
		}
	})
}
