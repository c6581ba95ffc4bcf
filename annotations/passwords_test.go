package annotations

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestPasswordRules(t *testing.T) {
	for _, tc := range []struct {
		name, password, want string
	}{
		{"ok, ten characters", "abcdefghij", ""},
		{"ok, ten runes in more bytes", "ééééééééée", ""},
		{"ok, exactly 72 bytes", strings.Repeat("x", 72), ""},
		{"nok, nine characters", "abcdefghi", "at least 10 characters"},
		{"nok, 73 bytes", strings.Repeat("x", 73), "at most 72 bytes"},
		{"nok, not UTF-8", "abcdefghij\xff", "must be text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPasswordRules(tc.password)
			if tc.want == "" {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != "password" || ve.Malformed || !strings.Contains(ve.Message, tc.want) {
				t.Errorf("got %#v, want a ValidationError on password saying %q", err, tc.want)
			}
			if _, err := HashPassword(tc.password, bcrypt.MinCost); !errors.As(err, &ve) {
				t.Errorf("HashPassword: got %v, want the rule's ValidationError", err)
			}
		})
	}
}

func TestHashedPasswordsMatchOnlyThemselves(t *testing.T) {
	hash, err := HashPassword("correct horse battery", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if !PasswordMatches(hash, "correct horse battery") {
		t.Errorf("the password does not match its own hash")
	}
	for _, wrong := range []string{"correct horse battery ", "Correct horse battery", "", strings.Repeat("x", 200)} {
		if PasswordMatches(hash, wrong) {
			t.Errorf("%q matches the hash of another password", wrong)
		}
	}
	generated := GeneratePassword()
	if err := CheckPasswordRules(generated); err != nil || generated == GeneratePassword() {
		t.Errorf("generated password %q: %v, want one that passes the rules and differs each time", generated, err)
	}
}

func TestAPITokensAreKeptAsHashes(t *testing.T) {
	token, hash := NewAPIToken()
	other, _ := NewAPIToken()
	if !strings.HasPrefix(token, TokenPrefix) || len(token) != len(TokenPrefix)+43 || token == other {
		t.Errorf("token %q (and %q): want %s and 43 random characters, different each time", token, other, TokenPrefix)
	}
	if hash != SecretHash(token) || len(hash) != 64 || strings.Contains(hash, token) {
		t.Errorf("hash %q: want the token's SHA-256 in hex", hash)
	}
}
