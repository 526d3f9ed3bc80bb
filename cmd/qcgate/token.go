package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/qcgate/qcgate/auth"
)

const tokenLong = `Token prints an HS256 bearer token signed with the gateway's shared
secret, for the demo, tests and small sites without an identity provider.

The secret file is the one the gateway reads (auth.hs256_secret_file); by
default it is taken from QCGATE_AUTH_HS256_SECRET_FILE, and the issuer and
audience from QCGATE_AUTH_ISSUER and QCGATE_AUTH_AUDIENCE, so a token minted
next to a running gateway matches its settings.

Roles: ` + "viewer, annotator, reviewer, senior_qa, auditor, admin." + `

The token is printed on stdout followed by a line break, and nothing else.
Treat it like a password: anyone holding it acts as --sub until it expires.`

func init() {
	subcommands = append(subcommands, newTokenCommand())
}

// newTokenCommand builds the "qcgate token" command.
func newTokenCommand() *cobra.Command {
	var (
		secretFile, sub, issuer, audience string
		roles                             []string
		ttl                               time.Duration
	)
	cmd := &cobra.Command{
		Use:   "token --secret-file FILE --sub NAME --roles ROLE,... [--ttl 1h]",
		Short: "Mint an HS256 token for the demo and tests",
		Long:  tokenLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if secretFile == "" {
				return fmt.Errorf("--secret-file or %s is required", auth.EnvHS256SecretFile)
			}
			if sub == "" {
				return errors.New("--sub is required")
			}
			secret, err := auth.ReadHS256Secret(secretFile)
			if err != nil {
				return err
			}
			tok, err := auth.Mint(secret, sub, roles, ttl, issuer, audience)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), tok)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&secretFile, "secret-file", os.Getenv(auth.EnvHS256SecretFile),
		"file holding the HS256 secret")
	f.StringVar(&sub, "sub", "", "subject: the user or client the token stands for")
	f.StringSliceVar(&roles, "roles", nil, "roles, separated by commas")
	f.DurationVar(&ttl, "ttl", time.Hour, "lifetime of the token")
	f.StringVar(&issuer, "issuer", os.Getenv(auth.EnvIssuer), "iss claim; empty: none")
	f.StringVar(&audience, "audience", os.Getenv(auth.EnvAudience), "aud claim; empty: none")
	return cmd
}
