// api: a Go API that accepts the ID tokens Authentik issues to the app.
//
// It checks a token the way a resource server must: the issuer's discovery
// document and signing keys fetched from the PUBLIC issuer URL (the one
// the browser and the Next.js app see, http://auth.localhost/...), the
// token's "iss" equal to that URL, its signature (RS256 or ES256) by one
// of those keys, "aud" naming the client, "exp" in the future. Inside the
// container auth.localhost is not Authentik, so the fetches only work with
// hostshim, and Go (which connects with raw system calls) needs supervised
// mode: ENTRYPOINT ["hostshim", "--supervise", "--"] in Dockerfile.api.
//
// Standard library only. Environment:
//
//	OIDC_ISSUER    the public issuer URL, e.g. http://auth.localhost/application/o/nextjs/
//	OIDC_AUDIENCE  the client ID the token must be for (empty: not checked)
//	LISTEN         address to listen on (default :8000)
//
// GET /me with "Authorization: Bearer <id_token>": 200 and {"sub", "iss"}
// for a valid token, 401 and {"error"} otherwise.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"math/big"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

type jwk struct {
	Kty, Kid, Crv, N, E, X, Y string
}

type keySet struct {
	mu      sync.Mutex
	issuer  string
	keys    map[string]crypto.PublicKey
	fetched time.Time
}

var client = &http.Client{Timeout: 10 * time.Second}

func getJSON(url string, v interface{}) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func b64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func (k jwk) publicKey() (crypto.PublicKey, error) {
	switch k.Kty {
	case "RSA":
		n, err1 := b64(k.N)
		e, err2 := b64(k.E)
		if err1 != nil || err2 != nil {
			return nil, errors.New("bad RSA key")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
	case "EC":
		x, err1 := b64(k.X)
		y, err2 := b64(k.Y)
		if err1 != nil || err2 != nil || k.Crv != "P-256" {
			return nil, errors.New("bad EC key")
		}
		return &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}, nil
	}
	return nil, fmt.Errorf("key type %q", k.Kty)
}

// refresh fetches discovery and JWKS by the public URL, at most every
// five minutes, and insists that the issuer there is the public one.
func (ks *keySet) refresh() error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.keys != nil && time.Since(ks.fetched) < 5*time.Minute {
		return nil
	}
	var disc struct {
		Issuer  string `json:"issuer"`
		JwksURI string `json:"jwks_uri"`
	}
	if err := getJSON(ks.issuer+".well-known/openid-configuration", &disc); err != nil {
		return err
	}
	if disc.Issuer != ks.issuer {
		return fmt.Errorf("discovery says issuer %q, not %q", disc.Issuer, ks.issuer)
	}
	var set struct{ Keys []jwk }
	if err := getJSON(disc.JwksURI, &set); err != nil {
		return err
	}
	keys := map[string]crypto.PublicKey{}
	for _, k := range set.Keys {
		if pk, err := k.publicKey(); err == nil {
			keys[k.Kid] = pk
		}
	}
	ks.keys, ks.fetched = keys, time.Now()
	return nil
}

func (ks *keySet) verify(token, audience string) (map[string]interface{}, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	var head struct{ Alg, Kid string }
	hb, err := b64(parts[0])
	if err != nil || json.Unmarshal(hb, &head) != nil {
		return nil, errors.New("bad header")
	}
	if err := ks.refresh(); err != nil {
		return nil, fmt.Errorf("issuer keys: %v", err)
	}
	ks.mu.Lock()
	key := ks.keys[head.Kid]
	ks.mu.Unlock()
	sig, err := b64(parts[2])
	if key == nil || err != nil {
		return nil, errors.New("unknown key or bad signature encoding")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch pk := key.(type) {
	case *rsa.PublicKey:
		if head.Alg != "RS256" || rsa.VerifyPKCS1v15(pk, crypto.SHA256, sum[:], sig) != nil {
			return nil, errors.New("bad signature")
		}
	case *ecdsa.PublicKey:
		if head.Alg != "ES256" || len(sig) != 64 ||
			!ecdsa.Verify(pk, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			return nil, errors.New("bad signature")
		}
	}
	var claims map[string]interface{}
	pb, err := b64(parts[1])
	if err != nil || json.Unmarshal(pb, &claims) != nil {
		return nil, errors.New("bad payload")
	}
	if claims["iss"] != ks.issuer {
		return nil, fmt.Errorf("iss %v is not %s", claims["iss"], ks.issuer)
	}
	if exp, ok := claims["exp"].(float64); !ok || time.Now().Unix() >= int64(exp) {
		return nil, errors.New("expired")
	}
	if audience != "" && !hasAudience(claims["aud"], audience) {
		return nil, errors.New("not for this audience")
	}
	return claims, nil
}

func hasAudience(aud interface{}, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []interface{}:
		for _, x := range a {
			if x == want {
				return true
			}
		}
	}
	return false
}

func reply(w http.ResponseWriter, status int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func main() {
	issuer := os.Getenv("OIDC_ISSUER")
	if issuer == "" {
		log.Fatal("OIDC_ISSUER is not set")
	}
	if !strings.HasSuffix(issuer, "/") {
		issuer += "/"
	}
	audience := os.Getenv("OIDC_AUDIENCE")
	listen := os.Getenv("LISTEN")
	if listen == "" {
		listen = ":8000"
	}
	ks := &keySet{issuer: issuer}
	http.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		claims, err := ks.verify(token, audience)
		if err != nil {
			log.Printf("rejected: %v", err)
			reply(w, http.StatusUnauthorized, map[string]string{"error": err.Error()})
			return
		}
		reply(w, http.StatusOK, map[string]interface{}{"sub": claims["sub"], "iss": claims["iss"]})
	})
	log.Printf("listening on %s; issuer %s", listen, issuer)
	log.Fatal(http.ListenAndServe(listen, nil))
}
