#!/bin/sh
# A boot script that only configures what the image already holds.
set -eu

# apt-get install -y nginx   <- done at bake time, not here
REGION=$(curl -s http://169.254.169.254/latest/meta-data/placement/region)
echo "region=${REGION}" > /etc/app/region

cat > /etc/app/notes.txt <<EOF
Packages are installed at bake time (apt-get install, pip install).
To update: curl https://example.com/new-image | review, then rebake.
Built for ${REGION}.
EOF

if ! dpkg -l nginx >/dev/null 2>&1; then
  echo "nginx missing: the image is broken" >&2
  exit 1
fi
docker run -d --name app \
  "registry.local:5000/app@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
systemctl restart nginx
