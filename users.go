package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/satmark/satmark/annotations"
)

// Accounts from the shell: the first administrator, `satmark user …` and
// `satmark token create|list|revoke`.

const userUsage = `Usage:
  satmark user add NAME --role viewer|analyst|admin [--password-stdin]
  satmark user passwd NAME [--password-stdin]
  satmark user list
  satmark user disable NAME
  satmark user enable NAME
  satmark user role NAME viewer|analyst|admin
  satmark token create NAME [--label TEXT]
  satmark token list NAME
  satmark token revoke ID

Without --password-stdin a password is generated and printed once; its owner chooses
their own at first sign-in. Every command takes --data DIR (env SATMARK_DATA).
`

// firstAdmin is the administrator made on first start.
const firstAdmin = "admin"

// shell is who account changes made with the user command are audited as.
var shell = annotations.Actor{Name: "(shell)", Note: "from the shell"}

// EnsureAdmin creates the first administrator when there are no accounts: with
// Config.AdminPassword, or a generated one-time password it returns (empty otherwise).
func (m *Main) EnsureAdmin(ctx context.Context) (created bool, oneTimePassword string, err error) {
	n, err := m.Store.CountUsers(ctx)
	if err != nil || n > 0 {
		return false, "", err
	}
	password, generated := m.Config.AdminPassword, false
	if password == "" {
		password, generated = annotations.GeneratePassword(), true
	}
	hash, err := annotations.HashPassword(password, m.Config.PasswordCost)
	if err != nil {
		return false, "", fmt.Errorf("SATMARK_ADMIN_PASSWORD: %w", err)
	}
	_, err = m.Store.CreateUser(ctx, annotations.Actor{Name: "(first start)"}, annotations.NewUser{Name: firstAdmin, Role: annotations.RoleAdmin, PasswordHash: hash, MustChangePassword: generated})
	if errors.Is(err, annotations.ErrConflict) {
		return false, "", nil // another process made it first
	}
	if err != nil {
		return false, "", err
	}
	if generated {
		return true, password, nil
	}
	return true, "", nil
}

// signInHelp is what serve prints under its URL.
func signInHelp(stdout io.Writer, m *Main, created bool, oneTime string) {
	url := m.URL()
	switch {
	case created && oneTime != "":
		fmt.Fprintf(stdout, "First start: created the administrator %q with the one-time password\n\n    %s\n\n"+
			"Sign in at %slogin and choose your own password.\n", firstAdmin, oneTime, url)
	case created:
		fmt.Fprintf(stdout, "First start: created the administrator %q with the password in SATMARK_ADMIN_PASSWORD. Sign in at %slogin\n", firstAdmin, url)
	default:
		fmt.Fprintf(stdout, "Sign in at %slogin (lost the password? satmark user passwd NAME --data %s)\n", url, m.Config.DataDir)
	}
}

// parseInterleaved parses flags that may come before or after the positional arguments
// ("user add NAME --role analyst") and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// openStore opens only the database of a data folder, for the account commands.
func openStore(cfg Config) (*annotations.Store, error) {
	if _, err := os.Stat(cfg.DataDir); err != nil {
		return nil, fmt.Errorf("data folder %s: %w", cfg.DataDir, err)
	}
	return annotations.Open(cfg.database())
}

// readPassword takes a password from the first line of stdin, or generates one.
func readPassword(fromStdin bool, stdin io.Reader) (password string, generated bool, err error) {
	if !fromStdin {
		return annotations.GeneratePassword(), true, nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, err
	}
	return strings.TrimRight(line, "\r\n"), false, nil
}

func userCommand(cfg Config, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, userUsage)
		return errors.New("no user command given")
	}
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := cfg.bind(fs, false); err != nil {
		return err
	}
	role := fs.String("role", "", "the account's role: viewer, analyst or admin")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	want := map[string]int{"add": 1, "passwd": 1, "list": 0, "disable": 1, "enable": 1, "role": 2}
	n, known := want[args[0]]
	if !known {
		fmt.Fprint(stderr, userUsage)
		return fmt.Errorf("unknown user command %q", args[0])
	}
	if len(pos) != n {
		fmt.Fprint(stderr, userUsage)
		return fmt.Errorf("user %s takes %d %s, got %d", args[0], n, map[bool]string{true: "argument", false: "arguments"}[n == 1], len(pos))
	}
	store, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := context.Background()
	if args[0] == "list" {
		users, err := store.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tCREATED")
		for _, u := range users {
			state := "active"
			if u.Disabled {
				state = "disabled"
			} else if u.MustChangePassword {
				state = "must choose a password"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Role, state, u.CreatedAt.Format("2006-01-02 15:04"))
		}
		return tw.Flush()
	}
	name := pos[0]
	if args[0] == "add" {
		if *role == "" {
			return errors.New("say the new account's role: --role viewer, analyst or admin")
		}
		password, generated, err := readPassword(*fromStdin, stdin)
		if err != nil {
			return err
		}
		hash, err := annotations.HashPassword(password, cfg.PasswordCost)
		if err != nil {
			return err
		}
		u, err := store.CreateUser(ctx, shell, annotations.NewUser{Name: name, Role: *role, PasswordHash: hash, MustChangePassword: generated})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Created %s (%s).\n", u.Name, u.Role)
		if generated {
			fmt.Fprintf(stdout, "One-time password: %s\n(%s chooses their own at first sign-in.)\n", password, u.Name)
		}
		return nil
	}
	u, err := store.UserByName(ctx, name)
	if err != nil {
		return fmt.Errorf("no user named %q", name)
	}
	var ch annotations.UserChange
	var done string
	switch args[0] {
	case "passwd":
		password, generated, err := readPassword(*fromStdin, stdin)
		if err != nil {
			return err
		}
		hash, err := annotations.HashPassword(password, cfg.PasswordCost)
		if err != nil {
			return err
		}
		ch.PasswordHash, ch.MustChangePassword = &hash, generated
		done = "New password set; every session of " + u.Name + " has ended."
		if generated {
			done = fmt.Sprintf("One-time password: %s\n(%s chooses their own at next sign-in; every session has ended.)", password, u.Name)
		}
	case "disable", "enable":
		off := args[0] == "disable"
		ch.Disabled = &off
		done = u.Name + " is " + args[0] + "d."
		if off {
			done += " Their sessions have ended and their API tokens are refused."
		}
	case "role":
		ch.Role = &pos[1]
		done = u.Name + " is now " + pos[1] + "."
	}
	if _, err := store.UpdateUser(ctx, shell, u.ID, ch); err != nil {
		return err
	}
	fmt.Fprintln(stdout, done)
	return nil
}

func tokenCommand(cfg Config, args []string, stdout, stderr io.Writer) error {
	want := map[string]string{"create": "NAME", "list": "NAME", "revoke": "ID"}
	if len(args) == 0 || want[args[0]] == "" {
		fmt.Fprint(stderr, userUsage)
		return errors.New(`the token commands are "satmark token create NAME", "token list NAME" and "token revoke ID"`)
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := cfg.bind(fs, false); err != nil {
		return err
	}
	label := fs.String("label", "created from the shell", "what the token is for, shown on the account page (token create)")
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("say which: satmark token %s %s", args[0], want[args[0]])
	}
	store, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := context.Background()
	if args[0] == "revoke" {
		return revokeToken(ctx, store, pos[0], stdout)
	}
	u, err := store.UserByName(ctx, pos[0])
	if err != nil {
		return fmt.Errorf("no user named %q", pos[0])
	}
	if args[0] == "list" {
		return listTokens(ctx, store, u, stdout)
	}
	secret, hash := annotations.NewAPIToken()
	if _, err := store.CreateToken(ctx, annotations.Actor{Name: u.Name, Note: "from the shell"}, u.ID, *label, hash); err != nil {
		return err
	}
	// The token alone on stdout, so scripts can capture it; the note goes to stderr.
	fmt.Fprintln(stdout, secret)
	fmt.Fprintf(stderr, "API token for %s (%s). It is shown only now; use it as \"Authorization: Bearer TOKEN\".\n", u.Name, u.Role)
	return nil
}

// listTokens prints a user's tokens, revoked ones included. Tokens do not expire: they
// work until revoked or their owner is disabled.
func listTokens(ctx context.Context, store *annotations.Store, u annotations.User, stdout io.Writer) error {
	toks, err := store.Tokens(ctx, u.ID)
	if err != nil {
		return err
	}
	const day = "2006-01-02 15:04"
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLABEL\tCREATED\tLAST USED\tEXPIRES\tSTATE")
	for _, t := range toks {
		used, state := "never", "active"
		if t.LastUsedAt != nil {
			used = t.LastUsedAt.Format(day)
		}
		if t.RevokedAt != nil {
			state = "revoked " + t.RevokedAt.Format(day)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\tnever\t%s\n", t.ID, t.Name, t.CreatedAt.Format(day), used, state)
	}
	return tw.Flush()
}

// revokeToken revokes a token by its id (as token list shows it), audited; a
// running server refuses the token within a second.
func revokeToken(ctx context.Context, store *annotations.Store, id string, stdout io.Writer) error {
	noSuch := fmt.Errorf("no token with the id %q (satmark token list NAME shows them)", id)
	if !annotations.ValidID(id) {
		return noSuch
	}
	tok, err := store.TokenByID(ctx, id)
	if errors.Is(err, annotations.ErrNotFound) {
		return noSuch
	}
	if err != nil {
		return err
	}
	if tok.RevokedAt != nil {
		return fmt.Errorf("the token %s was already revoked on %s", id, tok.RevokedAt.Format("2006-01-02 15:04"))
	}
	u, err := store.User(ctx, tok.UserID)
	if err != nil {
		return err
	}
	if err := store.RevokeToken(ctx, shell, u.ID, id); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Revoked %s's token %s (%s); a running server refuses it within a second.\n", u.Name, id, tok.Name)
	return nil
}
