// Package auth authenticates qcgate's callers by JSON Web Tokens (RFC 7519)
// sent as OAuth 2.0 bearer tokens (RFC 6750), and says which roles they hold.
// It uses plain net/http types and does not log.
//
// # Keys
//
// A [Verifier] is built by [NewVerifier] from a [Config] that names one or
// more key sources:
//
//   - a shared HS256 secret read from a file, for small sites and the demo
//     (tokens from [Mint] and the qcgate token command);
//   - RSA public keys in PEM files, for RS256 tokens;
//   - P-256 public keys in PEM files, for ES256 tokens;
//   - the JWK Set URL of an OpenID Connect provider (Keycloak, Azure AD and
//     others), cached, refreshed every hour and fetched again, at most every
//     30 seconds, when a token names a kid not in the cache, so a provider
//     can rotate its keys.
//
// Each algorithm is accepted only with keys of its own kind: HS256 only with
// the secret, RS and PS algorithms only with RSA keys, ES algorithms only
// with EC keys. "none" is never accepted, and a token signed with HS256
// using an RSA public key as the secret fails, because the secret is the
// only HS256 key. With no key source and authentication not switched off
// ([Config.Disabled]), NewVerifier fails: there is no open default.
//
// # Claims
//
// exp is required; exp, nbf and iat are checked with a leeway of 30 seconds
// ([Config.Leeway]). iss must equal [Config.Issuer] and aud must hold
// [Config.Audience] when they are set; both are required with a JWK Set,
// and the audience whenever the issuer is set, because a provider signs
// tokens for many applications. sub must be present. Roles are read from a
// claim at a dotted path ([Config.RolesClaim], "roles" by default,
// "realm_access.roles" for Keycloak realm roles); unknown role names in it
// are ignored. Tokens longer than [Config.MaxTokenBytes] (8 KiB) are refused
// before they are parsed.
//
// # Where the token is read
//
// Only from the Authorization header. A token in a cookie is ignored, and a
// token in the access_token query parameter is refused with invalid_request:
// URLs end up in access logs, browser histories and Referer headers, and
// the gateway would forward the parameter to the archive.
//
// Browser viewers send the header on every request. OHIF with oidc settings
// in its app-config passes its user's access token to the Cornerstone DICOM
// image loader through the loader's beforeSend hook, which serves WADO-RS
// and WADO-URI (wadouri: image IDs) loads alike, and to its DICOMweb client
// for QIDO-RS and STOW-RS. A viewer that can only put a token in a URL is
// not supported.
//
// # Roles
//
// [Role] names six roles; a role implies others ([Role.Implies]): annotator
// and reviewer imply viewer, senior_qa implies reviewer, auditor implies
// viewer, admin implies all. [Principal.Has] and [Principal.Require] check a
// route's role. Log subjects only through [SubjectHash].
//
// # Errors
//
// Failures are [*Error] values carrying an RFC 6750 error code and a
// description safe for the client; [Error.StatusCode] gives 401 or 403 and
// [Error.WWWAuthenticate] the challenge. The cause wraps one of the
// sentinels of errors.go.
package auth
