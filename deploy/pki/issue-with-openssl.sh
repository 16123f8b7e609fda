#!/usr/bin/env bash
# Issues a Sunshine cluster CA and node certificates with the openssl command, for counties whose
# PKI runs on OpenSSL. It writes exactly the layout `sunshine certs init` writes (DESIGN §5):
#
#   DIR/ca.pem  DIR/ca.key  DIR/NODE.pem  DIR/NODE.key   (keys mode 0600, PKCS#8 PEM)
#
# and certificates a coordinator accepts exactly like Sunshine's own (DESIGN §3.7): ECDSA P-256,
# subject O=Sunshine, OU=ROLE, CN=NODE; the CA with basicConstraints critical CA:TRUE, pathlen:0
# and keyUsage keyCertSign, cRLSign; node certificates with basicConstraints critical CA:FALSE,
# keyUsage critical digitalSignature, extendedKeyUsage serverAuth, clientAuth, subject and
# authority key identifiers, and subject alternative names from --host (the coordinator's
# default: localhost and 127.0.0.1).
#
# Safe to run again: existing files are never replaced without --force. A node whose certificate
# and key are already there, issued by DIR/ca.pem with the same subject, names and extensions, is
# kept as it is; anything else already there is refused before a single file is written, and new
# files are built aside and moved into place only once every one of them is ready.
set -euo pipefail

program=${0##*/}

usage() {
    cat <<EOF
Usage:
  $program init  --out DIR [--townships N] [--host H]... [--force]
  $program issue --out DIR --node NAME --role ROLE [--host H]... [--force]

init   creates DIR/ca.pem and DIR/ca.key (or keeps the CA already there) and a certificate for
       coordinator, township-01 ... township-NN (default 17) and operator; --host names what agents
       dial the coordinator at (repeatable; default localhost and 127.0.0.1).
issue  issues one more node certificate with the CA in DIR; ROLE is coordinator, agent or operator;
       --host adds subject alternative names (a coordinator defaults to localhost and 127.0.0.1).
--pki DIR is accepted for --out DIR. --force replaces existing files (the old keys stop working).
EOF
}

# Says what was wrong and what to do, in one sentence, and stops.
fail() {
    printf '%s: %s\n' "$program" "$1" >&2
    exit 1
}

command -v openssl >/dev/null 2>&1 \
    || fail "openssl was not found on PATH; install it (apt-get install openssl) and run this again."

if [[ $# -eq 0 ]]; then
    usage >&2
    exit 2
fi
mode=$1
shift
case $mode in
    init | issue) ;;
    -h | --help | help)
        usage
        exit 0
        ;;
    *) fail "\"$mode\" is not a command; use init or issue (see --help)." ;;
esac

out=""
townships=""
node=""
role=""
force=false
hosts=()
while [[ $# -gt 0 ]]; do
    option=$1
    case $option in
        --force)
            force=true
            shift
            continue
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        --out | --pki | --townships | --host | --node | --role) ;;
        *) fail "$option is not an option of $mode; see --help." ;;
    esac
    [[ $# -ge 2 && -n $2 ]] || fail "$option needs a value; see --help."
    case $option in
        --out | --pki) out=$2 ;;
        --townships) townships=$2 ;;
        --host) hosts+=("$2") ;;
        --node) node=$2 ;;
        --role) role=$2 ;;
    esac
    shift 2
done

[[ -n $out ]] || fail "say where the certificates go with --out DIR."

# The node-id rule of SunshineModel's NodeName, the reserved and operator names of its
# NodeIdentity, and the one name whose files would be the CA's own.
check_identity() {
    local name=$1 kind=$2 article=an
    if [[ $kind == coordinator ]]; then
        article=a
    fi
    if [[ ! $name =~ ^[a-z][a-z0-9-]{0,63}$ ]]; then
        fail "\"$name\" is not a valid node id: use 1–64 lower-case letters, digits and '-', starting with a letter."
    fi
    if [[ $name == county || ($name == coordinator && $kind != coordinator) ]]; then
        fail "\"$name\" is reserved for the county and cannot name $article $kind; choose another node id."
    fi
    local operator_name=false
    if [[ $name == operator || ($name == operator-* && $name != operator-) ]]; then
        operator_name=true
    fi
    if [[ $kind == operator && $operator_name == false ]]; then
        fail "\"$name\" cannot name an operator: operators are named operator or operator-NAME (for example operator-alice), so that none passes for a township."
    fi
    if [[ $kind != operator && $operator_name == true ]]; then
        fail "\"$name\" is an operator's name and cannot name $article $kind; choose another node id."
    fi
    if [[ $name == ca ]]; then
        fail "a node named \"ca\" would be written over the CA's own ca.pem and ca.key; choose another node id."
    fi
}

# A host becomes an IP or a DNS subject alternative name; anything that could smuggle more into
# the OpenSSL configuration than one name is refused.
san_entry() {
    local host=$1
    if [[ $host =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; then
        local octets octet
        IFS=. read -r -a octets <<<"$host"
        for octet in "${octets[@]}"; do
            if ((10#$octet > 255)); then
                fail "--host $host is not an IPv4 address; each part must be 0–255."
            fi
        done
        printf 'IP:%s' "$host"
    elif [[ $host =~ ^[0-9A-Fa-f:.]+$ && $host == *:* ]]; then
        printf 'IP:%s' "$host"
    elif [[ ${#host} -le 253 && $host =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then
        printf 'DNS:%s' "$host"
    else
        fail "--host $host is not a host name or IP address; use letters, digits, '.', '-' (or ':' in IPv6)."
    fi
}

case $mode in
    init)
        [[ -z $node && -z $role ]] || fail "init issues the whole county; use issue for --node and --role."
        townships=${townships:-17}
        if [[ ! $townships =~ ^[0-9]{1,3}$ ]] || ((10#$townships < 1)); then
            fail "--townships must be between 1 and 999."
        fi
        plan=("coordinator coordinator")
        for ((number = 1; number <= 10#$townships; number++)); do
            plan+=("$(printf 'township-%02d' "$number") agent")
        done
        plan+=("operator operator")
        ;;
    issue)
        [[ -z $townships ]] || fail "--townships is for init; issue makes one certificate."
        [[ -n $node ]] || fail "say which node with --node NAME."
        [[ -n $role ]] || fail "say which role with --role coordinator, agent or operator."
        case $role in
            coordinator | agent | operator) ;;
            *) fail "--role $role is not a role; use coordinator, agent or operator." ;;
        esac
        plan=("$node $role")
        ;;
esac
for entry in "${plan[@]}"; do
    check_identity "${entry% *}" "${entry#* }"
done
if [[ ${#hosts[@]} -eq 0 ]]; then
    hosts=(localhost 127.0.0.1)
    explicit_hosts=false
else
    explicit_hosts=true
fi
names=""
for host in "${hosts[@]}"; do
    names+="${names:+,}$(san_entry "$host")"
done

# Runs openssl quietly; on failure says what could not be done and OpenSSL's first complaint.
run_openssl() {
    local what=$1 log
    shift
    if ! log=$(openssl "$@" 2>&1); then
        fail "openssl could not $what ($(printf '%s' "$log" | head -n 1)); check the arguments and the files in $out."
    fi
}

configuration() {
    local alternative_names=$1
    cat <<EOF
[req]
distinguished_name = subject
string_mask = utf8only
[subject]
[ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[node]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    if [[ -n $alternative_names ]]; then
        printf 'subjectAltName = %s\n' "$alternative_names"
    fi
}

new_key() {
    run_openssl "generate a P-256 key" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -pkeyopt ec_param_enc:named_curve -out "$1"
    chmod 600 "$1"
}

# A positive serial of 128 random bits.
new_serial() {
    printf '0x%s' "$(openssl rand -hex 16)"
}

# Whether the private key KEY belongs to the certificate PEM.
key_matches() {
    [[ $(openssl pkey -in "$1" -pubout 2>&1) == $(openssl x509 -in "$2" -noout -pubkey 2>&1) ]]
}

# Whether DIR/NAME.pem and DIR/NAME.key are a pair issued by the CA in $ca_dir with what the
# freshly built $work/NAME.pem holds (subject, names, extensions).
already_issued() {
    local name=$1 existing=$out/$1.pem fresh=$work/$1.pem
    openssl verify -CAfile "$ca_dir/ca.pem" "$existing" >/dev/null 2>&1 || return 1
    local fields=(-noout -subject -nameopt RFC2253
        -ext "basicConstraints,keyUsage,extendedKeyUsage,subjectAltName")
    [[ $(openssl x509 -in "$existing" "${fields[@]}" 2>&1) == $(openssl x509 -in "$fresh" "${fields[@]}" 2>&1) ]] \
        || return 1
    key_matches "$out/$name.key" "$existing"
}

# The CA: the one in DIR for issue, and for init unless --force (a new one when there is none).
# Everything is checked before anything is created.
ca_state=new
if [[ $mode == issue || $force == false ]] && [[ -e $out/ca.pem || -e $out/ca.key ]]; then
    if [[ ! -e $out/ca.pem || ! -e $out/ca.key ]]; then
        fail "only one of $out/ca.pem and $out/ca.key exists; restore the other, or make a new CA with init --force."
    fi
    if ! key_matches "$out/ca.key" "$out/ca.pem"; then
        fail "$out/ca.key is not the key of $out/ca.pem; restore the CA's files, or make a new CA with init --force."
    fi
    ca_state=kept
    ca_dir=$out
elif [[ $mode == issue ]]; then
    fail "$out/ca.pem and $out/ca.key do not exist; create the CA first with: $program init --out $out."
fi

mkdir -p "$out"
umask 077
work=$(mktemp -d "$out/.issue-XXXXXX")
trap 'rm -rf "$work"' EXIT

if [[ $ca_state == new ]]; then
    ca_dir=$work
    new_key "$work/ca.key"
    configuration "" >"$work/openssl.cnf"
    run_openssl "create the CA certificate" req -new -x509 -key "$work/ca.key" -sha256 -days 3650 \
        -set_serial "$(new_serial)" -subj "/O=Sunshine/CN=Sunshine county CA" \
        -config "$work/openssl.cnf" -extensions ca -out "$work/ca.pem"
fi

# Build every node certificate aside, and decide for each whether it is written or kept.
written=()
kept=()
for entry in "${plan[@]}"; do
    name=${entry% *}
    kind=${entry#* }
    alternative_names=""
    if [[ $kind == coordinator || ($mode == issue && $explicit_hosts == true) ]]; then
        alternative_names=$names
    fi
    configuration "$alternative_names" >"$work/openssl.cnf"
    new_key "$work/$name.key"
    run_openssl "make the request for $name" req -new -key "$work/$name.key" -subj "/O=Sunshine/OU=$kind/CN=$name" \
        -config "$work/openssl.cnf" -out "$work/$name.csr"
    run_openssl "sign the certificate of $name" x509 -req -in "$work/$name.csr" -CA "$ca_dir/ca.pem" \
        -CAkey "$ca_dir/ca.key" -set_serial "$(new_serial)" -sha256 -days 400 \
        -extfile "$work/openssl.cnf" -extensions node -out "$work/$name.pem"
    rm -f "$work/$name.csr"
    if [[ $force == true || (! -e $out/$name.pem && ! -e $out/$name.key) ]]; then
        written+=("$name")
    elif [[ $ca_state == kept && -e $out/$name.pem && -e $out/$name.key ]] && already_issued "$name"; then
        kept+=("$name")
    else
        existing=$out/$name.pem
        [[ -e $existing ]] || existing=$out/$name.key
        fail "$existing already exists; pass --force to replace it (the old key stops working)."
    fi
done

# Every file is ready: move them into place, keys first, the CA before the nodes it signed.
install_pair() {
    local name=$1
    chmod 644 "$work/$name.pem"
    mv -f "$work/$name.key" "$out/$name.key"
    mv -f "$work/$name.pem" "$out/$name.pem"
}
if [[ $ca_state == new ]]; then
    install_pair ca
fi
for name in ${written[@]+"${written[@]}"}; do
    install_pair "$name"
done

if [[ $ca_state == new ]]; then
    echo "Wrote the CA to $out: ca.pem, ca.key (keep ca.key offline once every certificate is issued)."
else
    echo "Using the CA in $out (ca.pem, ca.key):"
fi
for entry in "${plan[@]}"; do
    name=${entry% *}
    if [[ " ${kept[*]-} " == *" $name "* ]]; then
        echo "  kept  $name.pem, $name.key  [${entry#* }] (already issued by this CA)"
    else
        echo "  wrote $name.pem, $name.key  [${entry#* }]"
    fi
done
