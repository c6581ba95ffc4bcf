package annotations

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Passwords and API tokens: the rule a password must meet, how it is hashed and checked,
// the one-time passwords new accounts get, and minting API tokens. The store keeps only
// hashes; the command line, the API and the pages all come through here.

const (
	// DefaultPasswordCost is bcrypt's work factor: about a quarter of a second a check.
	DefaultPasswordCost = 12

	// MinPasswordLength and MaxPasswordBytes bound a password (bcrypt reads 72 bytes).
	MinPasswordLength = 10
	MaxPasswordBytes  = 72

	// TokenPrefix begins every API token, so that one pasted where it should not be is
	// recognisable.
	TokenPrefix = "smk_"
)

// NewSecret is n random bytes, base64url without padding: session cookies, CSRF tokens,
// API tokens and one-time passwords are made of it.
func NewSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SecretHash is what the store keeps of a session cookie or an API token: its SHA-256,
// in hex. Secrets are random and long, so no slow hash is needed.
func SecretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewAPIToken makes a token and the hash the store keeps of it.
func NewAPIToken() (token, hash string) {
	token = TokenPrefix + NewSecret(32)
	return token, SecretHash(token)
}

// GeneratePassword makes a one-time password for an account whose owner will choose
// their own.
func GeneratePassword() string { return NewSecret(15) }

// CheckPasswordRules says why a password cannot be used (a *ValidationError on field
// "password"), or nil.
func CheckPasswordRules(password string) error {
	switch {
	case !utf8.ValidString(password):
		return invalid("password", "a password must be text")
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return invalid("password", "a password needs at least %d characters", MinPasswordLength)
	case len(password) > MaxPasswordBytes:
		return invalid("password", "a password is at most %d bytes", MaxPasswordBytes)
	}
	return nil
}

// HashPassword hashes a password with bcrypt at cost (0 for DefaultPasswordCost), after
// checking it against the rules.
func HashPassword(password string, cost int) (string, error) {
	if err := CheckPasswordRules(password); err != nil {
		return "", err
	}
	if cost == 0 {
		cost = DefaultPasswordCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	return string(h), err
}

// PasswordMatches says whether password is the one hash was made from.
func PasswordMatches(hash, password string) bool {
	return len(password) <= MaxPasswordBytes && bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}
