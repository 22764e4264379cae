#!/bin/bash
# EC2 user-data: bootstrap a web node on first boot.
# Do not add `dnf upgrade` here: the AMI is patched when it is baked.
set -euo pipefail
exec > >(tee /var/log/user-data.log | logger -t user-data) 2>&1

export DEBIAN_FRONTEND=noninteractive
TOKEN=$(curl -sS -X PUT "http://169.254.169.254/latest/api/token" \
  -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
INSTANCE_ID=$(curl -sS -H "X-aws-ec2-metadata-token: ${TOKEN}" \
  http://169.254.169.254/latest/meta-data/instance-id)

log() {
  echo "[bootstrap] $*"
}

install_packages() {
  local attempt
  for attempt in 1 2 3 4 5; do
    if apt-get update && apt-get install -y nginx; then
      return 0
    fi
    log "apt failed (attempt ${attempt}), retrying"
    sleep $((attempt * 5))
  done
  return 1
}

cat > /etc/motd.d/50-golden <<'MOTD'
This host was built from a golden image.
Never run apt-get upgrade on it: replace the instance instead.
MOTD

install_packages

# The vendor agent only ships an install script.
curl -fsSL https://get.example.com | sh

docker run -d --restart=always --name app -p 80:8080 \
  -e "INSTANCE_ID=${INSTANCE_ID}" \
  app:latest

systemctl enable --now nginx
log "done on ${INSTANCE_ID}"
