package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/qcgate/qcgate/gateway"
)

const serveLong = `Serve runs the gateway: a DICOMweb proxy in front of an archive that
quality-checks every DICOM Segmentation sent to it with STOW-RS.

Settings come from the YAML file of --config, then QCGATE_* environment
variables, then flags, each winning over the one before. Every setting has
all three forms: the YAML key max_seg_part_bytes is QCGATE_MAX_SEG_PART_BYTES
and --max-seg-part-bytes. The upstream password comes only from
QCGATE_UPSTREAM_PASSWORD or the file of upstream_password_file. The keys of
the YAML auth section are QCGATE_AUTH_* and --auth-* (auth.hs256_secret_file
is QCGATE_AUTH_HS256_SECRET_FILE and --auth-hs256-secret-file); likewise the
review section (review.audit_share is QCGATE_REVIEW_AUDIT_SHARE and
--review-audit-share), whose audit seed comes only from
QCGATE_REVIEW_AUDIT_SEED or review.audit_seed_file. With no token key
configured the gateway refuses to start, unless auth.disabled is true.
The example file docker/qcgate.example.yaml documents every setting and its
default.

Logs are JSON lines on stderr. SIGINT or SIGTERM stops the gateway after the
requests in flight have finished (at most shutdown_timeout).`

// settingHelp is the one-line help of each setting's flag; the example
// config file has the long form.
var settingHelp = map[string]string{
	"listen":                 "host:port to listen on (default 127.0.0.1:8080)",
	"upstream":               "upstream DICOMweb root URL, e.g. http://127.0.0.1:8042/dicom-web",
	"upstream_kind":          "orthanc or dicomweb (default orthanc)",
	"upstream_wado_uri":      "upstream WADO-URI URL (default: upstream origin + /wado)",
	"orthanc_root":           "Orthanc REST API root (default: upstream without /dicom-web)",
	"upstream_user":          "HTTP Basic user sent upstream",
	"upstream_password_file": "file holding the upstream password",
	"upstream_timeout":       "wait for upstream answer headers (default 30s)",
	"seg_store":              "how accepted SEGs are stored: stow or orthanc_rest (default stow)",
	"orthanc_tagging":        "tag accepted SEGs in Orthanc (default true for orthanc)",
	"store":                  "report store: SQLite file path (default ./qcgate.db)",
	"profile":                "QC profile file (default: built-in profile)",
	"profiles_dir":           "folder of QC profiles chosen per project or protocol",
	"default_profile":        "name of the default profile (default: profile's or built-in)",
	"max_seg_part_bytes":     "largest SEG part held for checking (default 512MiB)",
	"max_request_bytes":      "largest STOW-RS body, 0 for no limit (default 0)",
	"max_held_bytes":         "SEG bytes held at once by all uploads (default 1GiB)",
	"held_wait":              "wait for room under max_held_bytes before A700 (default 30s)",
	"body_idle_timeout":      "cut a request body idle this long, 0 off (default 60s)",
	"public_url":             "external base URL of the gateway (default: from Host)",
	"qc_status_description":  "QC status prefix in SEG Series Descriptions (default true)",
	"qc_status_private":      "QCGATE private block in SEG DICOM JSON (default true)",
	"qc_status_format":       "Series Description prefix with {status} (default \"[QC {status}] \")",
	"ohif_dir":               "OHIF dist/ folder to serve at / (default: no viewer)",
	"ohif_oidc_issuer":       "OIDC provider the viewer signs in with (default: none)",
	"ohif_oidc_client_id":    "OIDC client ID of the viewer (default: none)",
	"log_level":              "debug, info, warn or error (default info)",
	"log_uids":               "allow DICOM UIDs in logs (default false)",
	"metadata_cache_size":    "series of source metadata cached (default 256, 0 off)",
	"metadata_cache_ttl":     "age limit of cached source metadata (default 5m)",
	"read_header_timeout":    "limit for reading a request's headers (default 10s)",
	"shutdown_timeout":       "wait for in-flight requests on shutdown (default 60s)",
	"max_header_bytes":       "largest request line and headers (default 64KiB)",
	"rate_limit":             "requests per second per client, 0 off (default 200)",
	"rate_burst":             "requests a client may send at once (default 1000)",

	"auth_disabled":                  "switch authentication off (default false)",
	"auth_hs256_secret_file":         "file holding the HS256 secret (>= 32 bytes)",
	"auth_rsa_public_key_files":      "RSA public key PEM files, comma-separated (RS256)",
	"auth_ec_public_key_files":       "P-256 public key PEM files, comma-separated (ES256)",
	"auth_jwks_url":                  "JWK Set URL of an OpenID Connect provider",
	"auth_jwks_allow_http":           "allow a plain http JWK Set URL to any host",
	"auth_jwks_refresh_interval":     "JWK Set refresh interval (default 1h)",
	"auth_jwks_min_refresh_interval": "least gap between unknown-kid fetches (default 30s)",
	"auth_issuer":                    "required iss claim",
	"auth_audience":                  "value the aud claim must hold",
	"auth_roles_claim":               "dotted path of the roles claim (default roles)",
	"auth_leeway":                    "clock skew allowed on exp, nbf, iat (default 30s)",
	"auth_max_token_bytes":           "longest token accepted (default 8192)",
	"auth_metrics_public":            "serve /metrics without a token (default false)",

	"review_enabled":             "turn the review workflow on (default false)",
	"review_store":               "review store: SQLite path or postgres:// URL (default: store)",
	"review_audit_share":         "share of senior-QA approvals drawn for audit, 0 to 1 (default 0)",
	"review_audit_seed_file":     "file holding the audit seed (or QCGATE_REVIEW_AUDIT_SEED)",
	"review_audit_recall_window": "a failed audit recalls approvals this recent (default 0s, off)",
	"review_allow_self_review":   "four-eyes rules off; only with auth disabled (default false)",
	"review_archive":             "review state and rejection notes to Orthanc (default: tagging)",
}

func init() {
	subcommands = append(subcommands, newServeCommand())
}

// newServeCommand builds the "qcgate serve" command with a flag per setting.
func newServeCommand() *cobra.Command {
	var configFile string
	flagValues := map[string]*string{}
	cmd := &cobra.Command{
		Use:   "serve [--config FILE] [flags]",
		Short: "Run the gateway",
		Long:  serveLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Only flags given on the command line override the file and
			// the environment.
			flags := map[string]string{}
			for key, v := range flagValues {
				if cmd.Flags().Changed(gateway.FlagName(key)) {
					flags[key] = *v
				}
			}
			cfg, err := gateway.LoadConfig(gateway.LoadOptions{
				File: configFile, Env: os.Environ(), Flags: flags})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, cfg, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "", "YAML config file")
	for _, key := range gateway.Settings() {
		help, ok := settingHelp[key]
		if !ok {
			help = "see docker/qcgate.example.yaml"
		}
		flagValues[key] = cmd.Flags().String(gateway.FlagName(key), "",
			help+" ["+gateway.EnvName(key)+"]")
	}
	return cmd
}

// serve runs the gateway with cfg until ctx ends, logging JSON to w.
func serve(ctx context.Context, cfg *gateway.Config, w io.Writer) error {
	level, err := cfg.SlogLevel()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
	for _, warning := range cfg.Warnings() {
		log.Warn("unsafe configuration", "warning", warning)
	}
	log.Info("starting", "config", cfg)

	srv, err := gateway.New(gateway.Options{Config: cfg, Logger: log})
	if err != nil {
		return err
	}
	serveErr := srv.ListenAndServe(ctx)
	closeErr := srv.Close()
	if err := errors.Join(serveErr, closeErr); err != nil {
		log.Error("gateway stopped", "err", err)
		return &exitError{code: 1, err: fmt.Errorf("serve: %w", err)}
	}
	log.Info("stopped")
	return nil
}
