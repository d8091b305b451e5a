/**
 * The service definitions, as text: a systemd unit (Linux), a launchd plist
 * (macOS), a WinSW service wrapper config (Windows). Pure, so tests check the
 * exact content; `systemd-analyze verify` checks the unit where available.
 */
import type { Layout } from './layout.js'

/**
 * Node flags of the service (NODE_OPTIONS: a single-file executable takes no
 * flags on its command line), measured in bench/agent-footprint.ts. The heap
 * limits keep V8's heap small. --jitless runs JavaScript in the interpreter
 * only: the optimizing compiler's code and working memory cost ~5 MB of
 * resident memory and bought no measurable CPU for a program that works a few
 * milliseconds every 30 s. It also turns WebAssembly off (unused), which V8
 * announces with one "Warning: disabling flag --expose_wasm" line at start.
 */
export const NODE_FLAGS = '--max-old-space-size=32 --max-semi-space-size=1 --jitless'

function systemdQuote (arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/(["\\])/g, '\\$1')}"`
}

export function systemdUnit (l: Layout): string {
  const unprivileged = l.user !== 'root'
  return [
    '[Unit]',
    'Description=Vigie endpoint monitoring agent',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${[l.binary, 'run', '--config', l.configFile].map(systemdQuote).join(' ')}`,
    `Environment=${systemdQuote(`NODE_OPTIONS=${NODE_FLAGS}`)}`,
    ...(unprivileged ? [`User=${l.user}`, `Group=${l.user}`] : []),
    // systemd creates /var/lib/vigie-agent owned by the service user, mode 0700.
    'StateDirectory=vigie-agent',
    'StateDirectoryMode=0700',
    'Restart=always',
    'RestartSec=10',
    // A monitoring agent must never compete with the user's work.
    'Nice=10',
    'IOSchedulingClass=idle',
    'CPUWeight=20',
    'MemoryHigh=96M',
    'MemoryMax=160M',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'ProtectKernelTunables=yes',
    'ProtectControlGroups=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    ''
  ].join('\n')
}

function xmlEscape (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

export function launchdPlist (l: Layout): string {
  const args = [l.binary, 'run', '--config', l.configFile].map(a => `    <string>${xmlEscape(a)}</string>`)
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    `  <string>${xmlEscape(l.serviceName)}</string>`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...args,
    '  </array>',
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    '    <key>NODE_OPTIONS</key>',
    `    <string>${NODE_FLAGS}</string>`,
    '  </dict>',
    '  <key>RunAtLoad</key>',
    '  <true/>',
    '  <key>KeepAlive</key>',
    '  <true/>',
    '  <key>ThrottleInterval</key>',
    '  <integer>10</integer>',
    '  <key>ProcessType</key>',
    '  <string>Background</string>',
    '  <key>LowPriorityIO</key>',
    '  <true/>',
    '  <key>Nice</key>',
    '  <integer>10</integer>',
    '  <key>StandardOutPath</key>',
    `  <string>${xmlEscape(l.logFile ?? '/dev/null')}</string>`,
    '  <key>StandardErrorPath</key>',
    `  <string>${xmlEscape(l.logFile ?? '/dev/null')}</string>`,
    '</dict>',
    '</plist>',
    ''
  ].join('\n')
}

/**
 * Windows: a Node executable cannot answer the Service Control Manager itself
 * (it would be killed after 30 s with error 1053), so the service is WinSW
 * (github.com/winsw/winsw, one MIT-licensed exe) renamed vigie-agent-service.exe
 * next to this XML; it starts, restarts and logs the agent.
 */
export function winswConfig (l: Layout): string {
  return [
    '<service>',
    `  <id>${xmlEscape(l.serviceName)}</id>`,
    '  <name>Vigie agent</name>',
    '  <description>Vigie endpoint monitoring agent: reports hardware health and software inventory to the Vigie collector.</description>',
    `  <executable>${xmlEscape(l.binary)}</executable>`,
    `  <arguments>run --config "${xmlEscape(l.configFile)}"</arguments>`,
    `  <env name="NODE_OPTIONS" value="${NODE_FLAGS}"/>`,
    '  <startmode>Automatic</startmode>',
    '  <delayedAutoStart>true</delayedAutoStart>',
    '  <onfailure action="restart" delay="10 sec"/>',
    '  <onfailure action="restart" delay="60 sec"/>',
    '  <resetfailure>1 hour</resetfailure>',
    '  <priority>BelowNormal</priority>',
    `  <logpath>${xmlEscape(l.logFile ?? '%BASE%')}</logpath>`,
    '  <log mode="roll-by-size"><sizeThreshold>10240</sizeThreshold><keepFiles>3</keepFiles></log>',
    '  <stoptimeout>15 sec</stoptimeout>',
    '</service>',
    ''
  ].join('\n')
}
