package httpapi_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

// softKey is a software authenticator: one ES256 credential, discoverable,
// that answers WebAuthn ceremonies the way a browser passes them on
// (toJSON form), with "none" attestation. count is its signature counter.
type softKey struct {
	t      *testing.T
	origin string
	key    *ecdsa.PrivateKey
	id     []byte
	user   []byte // the user handle it was registered with
	rpID   string
	count  uint32
	flags  byte // extra flags (backup eligible/state)
}

const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagAT = 0x40
)

var b64 = base64.RawURLEncoding

func newSoftKey(t *testing.T, origin string) *softKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	return &softKey{t: t, origin: origin, key: k, id: id}
}

func (k *softKey) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": k.origin, "crossOrigin": false})
	return b
}

func (k *softKey) authData(extra []byte, flags byte) []byte {
	h := sha256.Sum256([]byte(k.rpID))
	out := append(h[:], flags|k.flags)
	out = binary.BigEndian.AppendUint32(out, k.count)
	return append(out, extra...)
}

// create answers creation options (the publicKey member).
func (k *softKey) create(options map[string]any) map[string]any {
	k.t.Helper()
	rp, _ := options["rp"].(map[string]any)
	user, _ := options["user"].(map[string]any)
	k.rpID, _ = rp["id"].(string)
	uid, err := b64.DecodeString(user["id"].(string))
	if err != nil {
		k.t.Fatalf("user id: %v", err)
	}
	k.user = uid
	pub, err := k.key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		k.t.Fatal(err)
	}
	x, y := pub[1:33], pub[33:65]
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		k.t.Fatal(err)
	}
	att := make([]byte, 16) // AAGUID: zeros
	att = binary.BigEndian.AppendUint16(att, uint16(len(k.id)))
	att = append(append(att, k.id...), cose...)
	obj, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(att, flagUP|flagUV|flagAT)})
	if err != nil {
		k.t.Fatal(err)
	}
	return map[string]any{"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(k.clientData("webauthn.create", options["challenge"].(string))),
			"attestationObject": b64.EncodeToString(obj), "transports": []string{"internal"}}}
}

// get answers request options with the counter one higher (flags: user
// present, and verified when uv).
func (k *softKey) get(options map[string]any, uv bool) map[string]any {
	k.t.Helper()
	k.count++
	return k.getAt(options, uv, k.count)
}

// getAt answers with a given counter value.
func (k *softKey) getAt(options map[string]any, uv bool, count uint32) map[string]any {
	k.t.Helper()
	saved := k.count
	k.count = count
	defer func() { k.count = saved }()
	var flags byte = flagUP
	if uv {
		flags |= flagUV
	}
	ad := k.authData(nil, flags)
	cd := k.clientData("webauthn.get", options["challenge"].(string))
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	return map[string]any{"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(ad),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(k.user)}}
}
