// Package auth holds the authentication primitives of Quire: password
// hashing, access tokens, opaque secrets and login throttling. It does no I/O
// beyond reading crypto/rand; the store and HTTP layers build on it.
package auth
