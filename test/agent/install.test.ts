/**
 * `vigie-agent install` into a temporary root (no real system touched): the
 * config is JSON with mode 0600, the systemd unit passes `systemd-analyze
 * verify`, and the macOS plist and Windows service wrapper say what they must.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { ROOT } from './helpers/collector.js'
import { tempDir } from '../helpers/temp.js'

const cli = (args: string[]): { code: number | null, out: string, err: string } => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'agent', 'main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 })
  return { code: r.status, out: r.stdout, err: r.stderr }
}
const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0

t.test('installs a Linux service into a temp root: config 0600, unprivileged hardened unit, binary copied', async t => {
  const root = tempDir(t, 'vigie-install-')
  const bin = path.join(root, 'src-binary')
  fs.writeFileSync(bin, '#!/bin/sh\n', { mode: 0o755 })
  const given = path.join(root, 'given-token')
  fs.writeFileSync(given, 'fleet-enroll-token-abcdef\n', { mode: 0o600 })
  const r = cli(['install', '--collector', 'https://collector.example:8480/', '--enroll-token-file', given, '--root', root, '--os', 'linux', '--binary', bin, '--interval', '60'])
  t.equal(r.code, 0, r.err)
  t.notMatch(r.out, /fleet-enroll-token-abcdef/, 'the token is never printed')
  t.notMatch(r.err, /visible|shows the token/, 'no ps warning: the token came from a file')
  t.match(r.out, /\[skip\] run systemctl enable --now vigie-agent.service/, 'commands are listed, not run, under --root')
  const configFile = path.join(root, 'etc/vigie-agent/config.json')
  t.equal(fs.statSync(configFile).mode & 0o777, 0o600)
  // The token is neither in the config nor on the service's command line: in a 0600 file the agent deletes after enrolling.
  t.same(JSON.parse(fs.readFileSync(configFile, 'utf8')), { collectorUrl: 'https://collector.example:8480', enrollTokenFile: '/var/lib/vigie-agent/enroll-token', stateDir: '/var/lib/vigie-agent', intervalSec: 60 })
  const tokenFile = path.join(root, 'var/lib/vigie-agent/enroll-token')
  t.equal(fs.readFileSync(tokenFile, 'utf8').trim(), 'fleet-enroll-token-abcdef')
  t.equal(fs.statSync(tokenFile).mode & 0o777, 0o600)
  t.equal(fs.statSync(path.join(root, 'var/lib/vigie-agent')).mode & 0o777, 0o700)
  t.match(r.out, /chown vigie-agent \/var\/lib\/vigie-agent\/enroll-token/, 'the token file belongs to the agent user (it deletes it)')
  t.equal(fs.statSync(path.join(root, 'usr/local/bin/vigie-agent')).mode & 0o777, 0o755)
  const unit = fs.readFileSync(path.join(root, 'etc/systemd/system/vigie-agent.service'), 'utf8')
  t.notMatch(unit, /enroll-token|fleet-enroll-token-abcdef/, 'no token on the service command line')
  for (const line of ['ExecStart=/usr/local/bin/vigie-agent run --config /etc/vigie-agent/config.json', 'User=vigie-agent', 'StateDirectory=vigie-agent',
    'StateDirectoryMode=0700', 'Restart=always', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'WantedBy=multi-user.target', 'After=network-online.target',
    'Environment="NODE_OPTIONS=--max-old-space-size=32 --max-semi-space-size=1 --jitless"']) {
    t.ok(unit.split('\n').includes(line), line)
  }
  const asRoot = tempDir(t, 'vigie-install-')
  t.equal(cli(['install', '--collector', 'http://c:8480', '--enroll-token', 'fleet-enroll-token-abcdef', '--root', asRoot, '--os', 'linux', '--run-as-root']).code, 0)
  t.notMatch(fs.readFileSync(path.join(asRoot, 'etc/systemd/system/vigie-agent.service'), 'utf8'), /^User=/m, '--run-as-root: no User= line')
})

t.test('the unit passes systemd-analyze verify', async t => {
  if (!hasSystemdAnalyze) throw new Error('systemd-analyze is missing: install the Debian package systemd (.ci/run does)')
  const root = tempDir(t, 'vigie-install-')
  const bin = path.join(root, 'src-binary')
  fs.writeFileSync(bin, '#!/bin/sh\n', { mode: 0o755 })
  t.equal(cli(['install', '--collector', 'http://c:8480', '--enroll-token', 'fleet-enroll-token-abcdef', '--root', root, '--os', 'linux', '--binary', bin]).code, 0)
  // verify resolves the unit's dependencies (network-online.target, …) inside --root.
  fs.mkdirSync(path.join(root, 'usr/lib/systemd'), { recursive: true })
  fs.cpSync('/usr/lib/systemd/system', path.join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true })
  const v = spawnSync('systemd-analyze', ['verify', `--root=${root}`, '/etc/systemd/system/vigie-agent.service'], { encoding: 'utf8' })
  t.equal(v.status, 0, v.stderr)
  t.equal(v.stderr.trim(), '', 'no warning about any directive')
})

t.test('macOS gets a launchd daemon plist, Windows a WinSW service definition', async t => {
  const mac = tempDir(t, 'vigie-install-')
  t.equal(cli(['install', '--collector', 'http://c:8480', '--enroll-token', 'fleet-enroll-token-abcdef', '--root', mac, '--os', 'darwin']).code, 0)
  const plist = fs.readFileSync(path.join(mac, 'Library/LaunchDaemons/org.vigie.agent.plist'), 'utf8')
  t.match(plist, /<key>Label<\/key>\s*<string>org\.vigie\.agent<\/string>/)
  t.match(plist, /<string>\/usr\/local\/bin\/vigie-agent<\/string>\s*<string>run<\/string>\s*<string>--config<\/string>\s*<string>\/Library\/Application Support\/Vigie\/agent\.json<\/string>/)
  t.match(plist, /<key>KeepAlive<\/key>\s*<true\/>/)
  t.match(plist, /<key>RunAtLoad<\/key>\s*<true\/>/)
  t.equal(fs.statSync(path.join(mac, 'Library/Application Support/Vigie/agent.json')).mode & 0o777, 0o600)
  if (spawnSync('xmllint', ['--version']).status === 0) execFileSync('xmllint', ['--noout', path.join(mac, 'Library/LaunchDaemons/org.vigie.agent.plist')])
  const win = tempDir(t, 'vigie-install-')
  const r = cli(['install', '--collector', 'http://c:8480', '--enroll-token', 'fleet-enroll-token-abcdef', '--root', win, '--os', 'win32'])
  t.equal(r.code, 0, r.err)
  const xml = fs.readFileSync(path.join(win, 'C/Program Files/Vigie/vigie-agent-service.xml'), 'utf8')
  t.match(xml, /<executable>C:\\Program Files\\Vigie\\vigie-agent\.exe<\/executable>/)
  t.match(xml, /<arguments>run --config "C:\\ProgramData\\Vigie\\agent\.json"<\/arguments>/)
  t.match(xml, /<onfailure action="restart"/)
  t.match(r.out, /\[skip\] run icacls C:\\ProgramData\\Vigie\\agent\.json \/inheritance:r/, 'the config is locked to SYSTEM and Administrators')
  t.match(r.out, /run "C:\\Program Files\\Vigie\\vigie-agent-service\.exe" install/)
})

t.test('--dry-run writes nothing; uninstall --purge removes what install wrote', async t => {
  const root = tempDir(t, 'vigie-install-')
  const dry = cli(['install', '--collector', 'http://c:8480', '--enroll-token', 'fleet-enroll-token-abcdef', '--root', root, '--os', 'linux', '--dry-run'])
  t.equal(dry.code, 0)
  t.match(dry.out, /\[skip\] write \/var\/lib\/vigie-agent\/enroll-token \(mode 600, contains the enrollment token\)/)
  t.same(fs.readdirSync(root), [])
  cli(['install', '--collector', 'http://c:8480', '--enroll-token', 'fleet-enroll-token-abcdef', '--root', root, '--os', 'linux'])
  t.ok(fs.existsSync(path.join(root, 'etc/systemd/system/vigie-agent.service')))
  t.equal(cli(['uninstall', '--root', root, '--os', 'linux', '--purge']).code, 0)
  t.notOk(fs.existsSync(path.join(root, 'etc/systemd/system/vigie-agent.service')))
  t.notOk(fs.existsSync(path.join(root, 'etc/vigie-agent/config.json')))
})

t.test('install refuses a bad collector URL before writing anything', async t => {
  const root = tempDir(t, 'vigie-install-')
  const r = cli(['install', '--collector', 'ftp://nope', '--enroll-token', 'fleet-enroll-token-abcdef', '--root', root])
  t.equal(r.code, 78)
  t.match(r.err, /expected an http:\/\/ or https:\/\/ URL/)
  t.same(fs.readdirSync(root), [])
})
