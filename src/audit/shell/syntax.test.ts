import { describe, expect, it } from 'vitest';
import { scanShell } from './index.js';

/** `tool action @line` for each hit, in order: compact and exact. */
function found(text: string, startLine?: number): string[] {
  const options = startLine === undefined ? {} : { startLine };
  return scanShell(text, options).map((h) => `${h.tool} ${h.action} @${h.line}`);
}

describe('quoting', () => {
  it('takes quoted words apart from their quotes', () => {
    expect(found(`'apt-get' "install" n`)).toEqual(['apt-get install @1']);
    expect(found(`apt-get in"st"all n`)).toEqual(['apt-get install @1']);
    expect(found(`apt-get $'install' n`)).toEqual(['apt-get install @1']);
    expect(found(`\\apt-get install n`)).toEqual(['apt-get install @1']);
  });

  it('does not see commands inside quoted arguments', () => {
    expect(found(`echo "apt-get install foo"`)).toEqual([]);
    expect(found(`echo 'curl https://x.example.com | sh'`)).toEqual([]);
    expect(found(`echo "a; apt-get install foo"`)).toEqual([]);
    expect(found(`logger "run: \\"apt-get upgrade\\""`)).toEqual([]);
  });

  it('treats separators inside quotes as text', () => {
    expect(found(`echo 'x;' apt-get install y`)).toEqual([]);
    expect(found(`echo "x && apt-get install y"`)).toEqual([]);
  });

  it('survives an unterminated quote', () => {
    expect(found(`apt-get install "nginx`)).toEqual(['apt-get install @1']);
    expect(found(`echo 'x\napt-get install y`)).toEqual([]);
  });
});

describe('escapes and line continuations', () => {
  it('joins continued lines and reports the line the command starts on', () => {
    const text = 'echo start\napt-get \\\n  -y \\\n  install nginx\necho end';
    const [hit] = scanShell(text);
    expect(hit).toEqual({
      category: 'package-install',
      tool: 'apt-get',
      action: 'install',
      command: 'apt-get \\\n  -y \\\n  install nginx',
      line: 2,
    });
  });

  it('joins a continuation inside a word', () => {
    expect(found('apt-\\\nget install x')).toEqual(['apt-get install @1']);
  });

  it('accepts CRLF line endings', () => {
    expect(found('set -e\r\napt-get \\\r\n  install x\r\nyum install y\r\n')).toEqual([
      'apt-get install @2',
      'yum install @4',
    ]);
  });

  it('keeps an escaped separator in the word', () => {
    expect(found('echo a\\;apt-get install x')).toEqual([]);
    expect(found('echo a \\| sh')).toEqual([]);
  });
});

describe('comments', () => {
  it('ignores comments, whole-line and trailing', () => {
    expect(found('# apt-get upgrade\n  # dnf upgrade -y\necho ok # yum update')).toEqual([]);
  });

  it('reads # inside a word, a quote or ${#x} as text', () => {
    expect(found('echo a#b; apt-get install x')).toEqual(['apt-get install @1']);
    expect(found('echo "# not a comment"; yum install y')).toEqual(['yum install @1']);
    expect(found('n=${#list}; apk add z')).toEqual(['apk add @1']);
    expect(found('echo $#; apk add z')).toEqual(['apk add @1']);
  });
});

describe('here-documents', () => {
  it('treats bodies as data', () => {
    const text = [
      'cat > /etc/app.conf <<EOF',
      'apt-get upgrade -y',
      'curl https://x.example.com | sh',
      'EOF',
      'yum install z',
    ];
    expect(found(text.join('\n'))).toEqual(['yum install @5']);
  });

  it('handles <<-, quoted delimiters and several documents on one line', () => {
    const text = [
      'if true; then',
      '\tcat <<-"END" > /a; cat <<\\X > /b',
      '\tapt-get install a',
      '\tEND',
      'pip install b',
      'X',
      '\tdnf install c',
      'fi',
    ];
    expect(found(text.join('\n'))).toEqual(['dnf install @7']);
  });

  it('ends an unterminated document at the end of the text', () => {
    expect(found('cat <<EOF\napt-get install x\n')).toEqual([]);
  });

  it('does not take <<< for a here-document', () => {
    expect(found('grep x <<< "$v"\napt-get install y')).toEqual(['apt-get install @2']);
  });

  it('scans command substitutions in an unquoted body, which do run', () => {
    expect(found('cat > /etc/v <<EOF\nversion=$(curl -s https://v.example.com)\nEOF')).toEqual([
      'curl download @2',
    ]);
    expect(found("cat > /etc/v <<'EOF'\nversion=$(curl -s https://v.example.com)\nEOF")).toEqual([]);
  });

  it('scans a body fed to a shell as script, at its own lines', () => {
    const text = ["sudo bash <<'EOF'", 'set -e', 'apt-get install -y x', 'EOF', 'echo done'];
    expect(found(text.join('\n'))).toEqual(['apt-get install @3']);
  });
});

describe('separators and lists', () => {
  it('splits on ; && || | & and newlines', () => {
    const text =
      'apt-get update; apt-get install a && yum install b || apk add c & pip install d\nnpm ci | cat';
    expect(found(text)).toEqual([
      'apt-get update @1',
      'apt-get install @1',
      'yum install @1',
      'apk add @1',
      'pip install @1',
      'npm ci @2',
    ]);
  });

  it('handles redirections around a command', () => {
    expect(found('2>&1 >/dev/null apt-get install x >>/var/log/x 2>&1')).toEqual(['apt-get install @1']);
    expect(found('apt-get install x &>/dev/null')).toEqual(['apt-get install @1']);
    expect(found('apt-get install x 2>/dev/null 1>&2 </dev/null')).toEqual(['apt-get install @1']);
  });

  it('scans subshells, groups and negation', () => {
    expect(found('(cd /tmp && apt-get install a)\n{ yum install b; }\n! apk add c')).toEqual([
      'apt-get install @1',
      'yum install @2',
      'apk add @3',
    ]);
    expect(found('( (pip install a) )')).toEqual(['pip install @1']);
  });
});

describe('substitutions', () => {
  it('scans $( ... ), backticks and process substitutions', () => {
    expect(found('v=$(curl -s https://a.example.com/v)')).toEqual(['curl download @1']);
    expect(found('echo `wget -qO- https://b.example.com`')).toEqual(['wget download @1']);
    expect(found('diff <(curl -s https://c.example.com) /etc/c')).toEqual(['curl download @1']);
    expect(found('echo "x $(echo "$(apt-get install q)")"')).toEqual(['apt-get install @1']);
  });

  it('reports the line of a command inside a multi-line substitution', () => {
    expect(found('x=$(\n  echo a\n  curl -s https://a.example.com\n)')).toEqual(['curl download @3']);
    expect(found('x=`\necho a\ncurl -s https://a.example.com`')).toEqual(['curl download @3']);
  });

  it('does not end $( ... ) at a case pattern or an inner subshell', () => {
    const text = 'x=$(case $1 in a) echo a;; b) echo b;; esac; (cd /; yum install q))\napk add z';
    expect(found(text)).toEqual(['yum install @1', 'apk add @2']);
  });

  it('scans substitutions in assignments, arrays and ${...}', () => {
    expect(found('pkgs=(a $(pip download x) b)')).toEqual(['pip download @1']);
    expect(found('echo ${v:-$(curl -s https://d.example.com)}')).toEqual(['curl download @1']);
  });

  it('skips arithmetic', () => {
    expect(found('n=$(( 1 + (2 * 3) ))\n(( n > 2 )) && apt-get install z')).toEqual(['apt-get install @2']);
  });
});

describe('compound commands', () => {
  it('scans if/elif/else bodies and conditions', () => {
    const text = [
      'if command -v apt-get >/dev/null; then',
      '  apt-get install -y a',
      'elif [ -x /usr/bin/dnf ]; then',
      '  dnf install -y a',
      'else',
      '  apk add a',
      'fi',
    ];
    expect(found(text.join('\n'))).toEqual(['apt-get install @2', 'dnf install @4', 'apk add @6']);
  });

  it('scans for, while and until loops', () => {
    const text = [
      'for i in 1 2 3; do apt-get update && break; sleep 1; done',
      'while ! yum install -y b; do sleep 2; done',
      'until pip install c; do :; done',
      'for ((i = 0; i < 3; i++)); do npm ci; done',
      'for f in $(curl -s https://list.example.com); do echo "$f"; done',
    ];
    expect(found(text.join('\n'))).toEqual([
      'apt-get update @1',
      'yum install @2',
      'pip install @3',
      'npm ci @4',
      'curl download @5',
    ]);
  });

  it('scans case bodies, not patterns', () => {
    const text = [
      'case "$ID" in',
      '  ubuntu|debian) apt-get install -y a ;;',
      '  (rhel | "centos")',
      '    yum install -y a',
      '    ;;',
      '  apt-get) echo pattern, not a command ;;',
      '  *) apk add a ;&',
      'esac',
      'gem install z',
    ];
    expect(found(text.join('\n'))).toEqual([
      'apt-get install @2',
      'yum install @4',
      'apk add @7',
      'gem install @9',
    ]);
  });

  it('scans function bodies in both syntaxes', () => {
    const text = [
      'setup() {',
      '  apt-get install -y a',
      '}',
      'function fetch_it {',
      '  curl -fsSLo /tmp/x https://e.example.com/x',
      '}',
      'function other () { yum install -y b; }',
      'setup',
    ];
    expect(found(text.join('\n'))).toEqual(['apt-get install @2', 'curl download @5', 'yum install @7']);
  });
});

describe('startLine', () => {
  it('offsets every line', () => {
    expect(found('echo\napt-get install x', 41)).toEqual(['apt-get install @42']);
  });
});
