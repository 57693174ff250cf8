#!/usr/bin/env bash
# gen.sh: regenerates the PEM test fixtures in this directory with openssl. They are test
# data, not secrets: no real system trusts these CAs. Valid for 100 years so tests do not
# expire. Run from anywhere; the outputs are committed, so this is only needed to change them.
set -euo pipefail
cd "$(dirname "$0")"
days=36500
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rsa_key() { openssl genrsa -traditional -out "$1" 2048 2>/dev/null; }
ec_key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1"; }

# ca NAME KEYFILE: self-signed CA.
ca() {
	openssl req -x509 -new -key "$2" -days $days -subj "/CN=carrier-lock test $1" \
	    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
	    -out "$1.crt"
}

# leaf NAME KEY CA EXTENSIONS: certificate for KEY signed by CA (CA.crt, CA.key).
leaf() {
	printf '%s\n' "$4" > "$tmp/ext"
	openssl req -new -key "$2" -subj "/CN=$1" -out "$tmp/csr"
	openssl x509 -req -in "$tmp/csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial \
	    -days $days -extfile "$tmp/ext" -out "$1.crt" 2>/dev/null
	rm -f "$3.srl"
}

rsa_key ca-rsa.key; ca ca-rsa ca-rsa.key
ec_key ca-ec.key; ca ca-ec ca-ec.key

SERVER="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth"
CLIENT="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"

rsa_key server-ip.key
leaf server-ip server-ip.key ca-rsa "$SERVER
subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost"
rsa_key server-noip.key
leaf server-noip server-noip.key ca-rsa "$SERVER
subjectAltName=DNS:example.test"
# Documentation addresses (RFC 5737, RFC 3849) only: nothing is ever sent to them.
leaf server-otherip server-noip.key ca-rsa "$SERVER
subjectAltName=DNS:other.test,IP:192.0.2.1,IP:2001:db8::1"

# RSA client: PKCS#1 and PKCS#8 encodings of the same key.
rsa_key client-rsa.pkcs1.key
openssl pkcs8 -topk8 -nocrypt -in client-rsa.pkcs1.key -out client-rsa.pkcs8.key
leaf client-rsa client-rsa.pkcs1.key ca-rsa "$CLIENT"
cat client-rsa.crt ca-rsa.crt > client-rsa-chain.crt

# EC client signed by the RSA CA: SEC1 without and with EC PARAMETERS, and PKCS#8.
ec_key client-ec.sec1.key
openssl ecparam -name prime256v1 -out "$tmp/params"
cat "$tmp/params" client-ec.sec1.key > client-ec.sec1-params.key
openssl pkcs8 -topk8 -nocrypt -in client-ec.sec1.key -out client-ec.pkcs8.key
leaf client-ec client-ec.sec1.key ca-rsa "$CLIENT"
# EC client signed by the EC CA.
ec_key client-ecca.sec1.key
leaf client-ecca client-ecca.sec1.key ca-ec "$CLIENT"
# keyUsage without digitalSignature or keyAgreement: unusable for TLS client auth.
leaf client-ec-badku client-ec.sec1.key ca-rsa "basicConstraints=CA:FALSE
keyUsage=critical,dataEncipherment"

# Keys that match nothing here.
rsa_key other-rsa.pkcs1.key
ec_key other-ec.sec1.key

# EC keys without the public key SEC1 may carry (matched by computing it), and one
# whose filed public key is another key's (so the key itself must decide): client-ec's
# private key in other-ec's SEC1 encoding (both P-256, the same layout).
openssl ec -in client-ec.sec1.key -no_public -out client-ec.nopub.key 2>/dev/null
openssl ec -in other-ec.sec1.key -no_public -out other-ec.nopub.key 2>/dev/null
python3 - <<'PY'
import base64
def der(f):
    return base64.b64decode("".join(l for l in open(f) if not l.startswith("-----")))
own, other = der("client-ec.sec1.key"), der("other-ec.sec1.key")
assert own[:7] == other[:7] == bytes.fromhex("30770201010420"), "not SEC1 P-256"
def pem(name, label, der):
    body = base64.b64encode(der).decode()
    with open(name, "w") as f:
        f.write(f"-----BEGIN {label}-----\n")
        f.write("".join(body[i:i + 64] + "\n" for i in range(0, len(body), 64)))
        f.write(f"-----END {label}-----\n")
def tlv(tag, content):
    n = len(content)
    size = bytes([n]) if n < 128 else bytes([0x81, n]) if n < 256 else bytes([0x82, n >> 8, n & 255])
    return bytes([tag]) + size + content
pem("client-ec.otherpub.key", "EC PRIVATE KEY", other[:7] + own[7:39] + other[39:])
# RFC 5958 (PKCS#8 v2): the public key beside the SEC1 key, not inside it.
point = own[-65:]
sec1 = tlv(0x30, bytes.fromhex("020101") + tlv(0x04, own[7:39]))
alg = tlv(0x30, tlv(0x06, bytes.fromhex("2a8648ce3d0201")) + tlv(0x06, bytes.fromhex("2a8648ce3d030107")))
pem("client-ec.pkcs8v2.key", "PRIVATE KEY", tlv(0x30, bytes.fromhex("020101") + alg +
    tlv(0x04, sec1) + tlv(0x81, b"\x00" + point)))
PY

# Encrypted keys, refused.
openssl rsa -in client-rsa.pkcs1.key -traditional -aes128 -passout pass:test \
    -out encrypted-legacy.key 2>/dev/null
openssl pkcs8 -topk8 -in client-rsa.pkcs1.key -passout pass:test -out encrypted-pkcs8.key

# Bundles and malformed PEM.
{ echo "Text before a block is ignored."; cat ca-rsa.crt; echo "# and between"; cat ca-ec.crt; } > bundle.crt
sed 's/$/\r/' ca-rsa.crt > crlf.crt
awk 'NR == 3 { $0 = substr($0, 1, 10) "*" substr($0, 12) } { print }' ca-rsa.crt > bad-base64.crt
head -n 8 ca-rsa.crt > truncated.crt
sed '$s/CERTIFICATE/PRIVATE KEY/' ca-rsa.crt > label-mismatch.crt
awk 'NR == 2 { $0 = substr($0, 1, 60) } { print }' ca-rsa.crt > short-line.crt
printf -- '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n' > empty-block.crt
printf 'no PEM here\n' > no-pem.txt
rm -f ca-rsa.key.srl
echo "gen.sh: fixtures written to $(pwd)"
