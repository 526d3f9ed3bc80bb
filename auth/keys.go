package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
)

// staticKey is a public key read from a PEM file. Its kid is the RFC 7638
// JWK thumbprint of the key, so that a token naming it by that id finds it.
type staticKey struct {
	kid string
	key any // *rsa.PublicKey or *ecdsa.PublicKey
}

func newStaticKey(path string, key any) (staticKey, error) {
	kid, err := thumbprint(key)
	if err != nil {
		return staticKey{}, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, path, err)
	}
	return staticKey{kid: kid, key: key}, nil
}

// ReadHS256Secret reads an HS256 secret from a file, as [NewVerifier] does
// for [Config.HS256SecretFile]: the bytes of the file without a final line
// break, at least [MinSecretBytes] of them.
func ReadHS256Secret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading HS256 secret: %w", err)
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(b) < MinSecretBytes {
		return nil, fmt.Errorf("%w: HS256 secret in %s has %d bytes, at least %d are required",
			ErrInvalidConfig, path, len(b), MinSecretBytes)
	}
	return b, nil
}

// readRSAKey reads an RSA public key of at least [MinRSABits] from a PEM file.
func readRSAKey(path string) (staticKey, error) {
	pub, err := readPublicKey(path)
	if err != nil {
		return staticKey{}, err
	}
	k, ok := pub.(*rsa.PublicKey)
	if !ok {
		return staticKey{}, fmt.Errorf("%w: %s holds a %T, not an RSA public key",
			ErrInvalidConfig, path, pub)
	}
	if k.N.BitLen() < MinRSABits {
		return staticKey{}, fmt.Errorf("%w: RSA key in %s has %d bits, at least %d are required",
			ErrInvalidConfig, path, k.N.BitLen(), MinRSABits)
	}
	return newStaticKey(path, k)
}

// readECKey reads a P-256 public key from a PEM file.
func readECKey(path string) (staticKey, error) {
	pub, err := readPublicKey(path)
	if err != nil {
		return staticKey{}, err
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return staticKey{}, fmt.Errorf("%w: %s holds a %T, not an EC public key",
			ErrInvalidConfig, path, pub)
	}
	if k.Curve != elliptic.P256() {
		return staticKey{}, fmt.Errorf("%w: EC key in %s is on %s; ES256 needs P-256",
			ErrInvalidConfig, path, k.Curve.Params().Name)
	}
	return newStaticKey(path, k)
}

// readPublicKey reads the first PEM block of a file: a PKIX public key, a
// PKCS #1 RSA public key, or a certificate whose public key is taken.
// Private keys are refused: the gateway needs only the public half.
func readPublicKey(path string) (any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading public key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%w: %s holds no PEM block", ErrInvalidConfig, path)
	}
	switch block.Type {
	case "PUBLIC KEY":
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: parsing %s: %w", ErrInvalidConfig, path, err)
		}
		return pub, nil
	case "RSA PUBLIC KEY":
		pub, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: parsing %s: %w", ErrInvalidConfig, path, err)
		}
		return pub, nil
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: parsing %s: %w", ErrInvalidConfig, path, err)
		}
		return cert.PublicKey, nil
	default:
		return nil, fmt.Errorf("%w: %s holds a %q PEM block, not a public key or certificate",
			ErrInvalidConfig, path, block.Type)
	}
}

// thumbprint is the RFC 7638 JWK thumbprint (SHA-256, base64url without
// padding) of an RSA or EC public key: the hash of the JSON object of the
// key's required members, in lexical order and without spaces.
func thumbprint(key any) (string, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	var members any
	switch k := key.(type) {
	case *rsa.PublicKey:
		members = struct {
			E   string `json:"e"`
			Kty string `json:"kty"`
			N   string `json:"n"`
		}{b64(big.NewInt(int64(k.E)).Bytes()), "RSA", b64(k.N.Bytes())}
	case *ecdsa.PublicKey:
		// An uncompressed point is 0x04, then X and Y of equal length.
		point, err := k.Bytes()
		if err != nil {
			return "", fmt.Errorf("encoding EC key: %w", err)
		}
		size := (len(point) - 1) / 2
		members = struct {
			Crv string `json:"crv"`
			Kty string `json:"kty"`
			X   string `json:"x"`
			Y   string `json:"y"`
		}{k.Curve.Params().Name, "EC", b64(point[1 : 1+size]), b64(point[1+size:])}
	default:
		return "", fmt.Errorf("thumbprint of a %T", key)
	}
	j, err := json.Marshal(members)
	if err != nil {
		return "", fmt.Errorf("encoding JWK members: %w", err)
	}
	sum := sha256.Sum256(j)
	return b64(sum[:]), nil
}
