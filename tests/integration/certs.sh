# certs.sh: test certificates made at test time with the openssl command,
# in the test's own $TMP (nothing secret is committed).  Source after
# lib.sh and sw_init: it makes a CA ($TMP/ca.crt) and a server certificate
# it signed for localhost and 127.0.0.1 ($TMP/server.crt, .key), and sets
# TLS_LISTENER to the listener keys that serve it.  EC P-256 keys: quick
# to make on a busy machine.

# cert_ca NAME: a self-signed CA, $TMP/NAME.crt and $TMP/NAME.key.
cert_ca() {
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$TMP/$1.key" -out "$TMP/$1.crt" -days 2 \
	    -subj "/CN=$1" -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$TMP/openssl.err"
}

# cert_issue CA NAME SAN: a leaf for server and client use, signed by CA,
# subject CN=NAME, subjectAltName SAN (like DNS:localhost,IP:127.0.0.1).
cert_issue() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$TMP/$2.key" -out "$TMP/$2.csr" -subj "/CN=$2" \
	    2>"$TMP/openssl.err"
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n' \
	    "$3" >"$TMP/$2.ext"
	openssl x509 -req -in "$TMP/$2.csr" -CA "$TMP/$1.crt" -CAkey "$TMP/$1.key" \
	    -CAcreateserial -days 2 -out "$TMP/$2.crt" -extfile "$TMP/$2.ext" \
	    2>"$TMP/openssl.err"
}

# backend_stat PORT FIELD [CA]: a number or string from an HTTPS backend's stats.
backend_stat() {
	curl -s --cacert "${3:-$TMP/ca.crt}" "https://127.0.0.1:$1/_backend/stats" |
	    sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\).*/\1/p"
}

cert_ca ca
cert_issue ca server "DNS:localhost,IP:127.0.0.1"
TLS_LISTENER="tls_cert = $TMP/server.crt
tls_key = $TMP/server.key"
