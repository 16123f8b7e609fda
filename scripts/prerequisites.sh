# Sourced by scripts/demo and scripts/test: makes sure a fresh Debian machine with the Swift 6
# toolchain has what Sunshine's build and tests need, installing only what is missing.
# Idempotent and non-interactive; needs root (or sudo) only when something must be installed.

sunshine_log() { printf 'sunshine: %s\n' "$*" >&2; }

sunshine_as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
        sunshine_log "need root to run: $*"; return 1
    fi
}

sunshine_apt_updated=""
sunshine_apt_install() {
    if [ -z "$sunshine_apt_updated" ]; then
        sunshine_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        sunshine_apt_updated=1
    fi
    sunshine_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

sunshine_prerequisites() {
    # The Swift toolchain: on PATH, or where the official images put it.
    if ! command -v swift >/dev/null 2>&1; then
        for candidate in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
            [ -x "$candidate/swift" ] && export PATH="$PATH:$candidate"
        done
    fi
    if ! command -v swift >/dev/null 2>&1; then
        sunshine_log "the Swift 6 toolchain is not installed (no 'swift' on PATH); install it from swift.org, then run this again."
        return 1
    fi

    # System libraries the packages link against, and the tools the tests use.
    local missing=()
    # The tests issue a county's certificates with openssl (deploy/pki/issue-with-openssl.sh),
    # check the shell scripts with shellcheck, verify the units in deploy/systemd with the systemd
    # package's systemd-analyze (nothing is started with it), and run the dashboard in tmux.
    for package in libsqlite3-dev ca-certificates openssl shellcheck systemd tmux; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-pip)
    if [ ${#missing[@]} -gt 0 ]; then
        sunshine_log "installing ${missing[*]}"
        sunshine_apt_install "${missing[@]}"
    fi

    # Python's jsonschema validates the frames the Swift encoder emits against proto-schemas/.
    if ! python3 -c 'import jsonschema' >/dev/null 2>&1; then
        sunshine_log "installing Python's jsonschema"
        python3 -m pip install --quiet jsonschema 2>/dev/null \
            || python3 -m pip install --quiet --break-system-packages jsonschema 2>/dev/null \
            || sunshine_apt_install python3-jsonschema
    fi
}
