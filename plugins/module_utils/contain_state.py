# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, phaseout maintainers
"""What the contain phase left on a host, and whether it is still in force. Pure functions and one reader.

kaspersky_info (discover, verify) carries this file and not module_utils/contain.py: detection needs the
containment check in its one call per host, not the rule builder, the resolver readers and the Windows
rules. AnsiballZ runs a module from a zip, without cached bytecode, so every byte of module_utils a
module carries is compiled on every run: this file is a fifth of what contain.py was. contain.py imports
what it shares from here, so the writer and the reader use the same names.

The state file (STATE_FILE) records what kaspersky_contain applied; ``containment_status`` compares it with
the live ruleset, the hosts file and the boot unit; ``probe_containment`` reads those from the host.
"""

from __future__ import annotations

import hashlib
import json
import re

TABLE_FAMILY = 'inet'
TABLE_NAME = 'phaseout_contain'
TABLE = '%s %s' % (TABLE_FAMILY, TABLE_NAME)
IPT_CHAINS = {'out': 'PHASEOUT_CONTAIN_OUT', 'in': 'PHASEOUT_CONTAIN_IN'}
IPT_HOOKS = {'out': 'OUTPUT', 'in': 'INPUT'}
COMMENT_PREFIX = 'phaseout-contain'
HOSTS_MARK = re.compile(r'^# (BEGIN|END) phaseout contain\b')

PERSIST_DIR = '/etc/phaseout'
STATE_FILE = PERSIST_DIR + '/contain.json'
STATE_VERSION = 1
UNIT_NAME = 'phaseout-contain.service'
UNIT_WANTED_BY = 'sysinit.target'
UNIT_LINK = '/etc/systemd/system/%s.wants/%s' % (UNIT_WANTED_BY, UNIT_NAME)


def sha256_lines(lines):
    """The digest the state file keeps of the hosts-file block."""
    return hashlib.sha256('\n'.join(lines).encode('utf-8')).hexdigest()


# --- reading the live ruleset ------------------------------------------------------------------

_COMMENT = re.compile(r'comment "?(%s:[^"\s]+)"?' % re.escape(COMMENT_PREFIX))


def parse_nft_table(text):
    """`nft list table inet phaseout_contain` -> {chain: [comments]}; None when there is no table."""
    if text is None:
        return None
    chains, current = {}, None
    for line in text.splitlines():
        match = re.match(r'^\s*chain (\S+) \{', line)
        if match:
            current = match.group(1)
            chains[current] = []
            continue
        match = _COMMENT.search(line)
        if match and current is not None:
            chains[current].append(match.group(1))
    return chains


def parse_iptables_s(text):
    """`iptables -S` (filter table) -> {'chains': {chain: [comments]}, 'jumps': {hook: count}}."""
    state = {'chains': {}, 'jumps': {}}
    for line in (text or '').splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == '-N' and words[1] in IPT_CHAINS.values():
            state['chains'].setdefault(words[1], [])
        elif len(words) >= 2 and words[0] == '-A' and words[1] in IPT_CHAINS.values():
            match = _COMMENT.search(line)
            state['chains'].setdefault(words[1], []).append(match.group(1) if match else '(foreign rule)')
        elif len(words) == 4 and words[0] == '-A' and words[1] in IPT_HOOKS.values() and words[2] == '-j' \
                and words[3] in IPT_CHAINS.values():
            state['jumps'][words[1]] = state['jumps'].get(words[1], 0) + 1
    return state


def ipt_signature(states):
    """{family: parse_iptables_s(...)} -> the same shape as signature(rules, 'iptables')."""
    sig = {}
    for family in ('ip', 'ip6'):
        chains = (states.get(family) or {}).get('chains', {})
        for direction in ('out', 'in'):
            key = '%s/%s' % (family, IPT_CHAINS[direction])
            if IPT_CHAINS[direction] in chains:
                sig[key] = chains[IPT_CHAINS[direction]]
    return sig


def ipt_jumps_ok(state):
    """Each of our chains is jumped to exactly once from its hook."""
    return all(state.get('jumps', {}).get(IPT_HOOKS[d]) == 1 for d in ('out', 'in'))


def hosts_block_of(text):
    """The managed block currently in ``text`` (lines, markers included), [] when none."""
    out, inside = [], False
    for line in text.splitlines():
        match = HOSTS_MARK.match(line)
        if match and match.group(1) == 'BEGIN':
            inside = True
        if inside:
            out.append(line)
        if match and match.group(1) == 'END':
            inside = False
    return out


CONTAINMENT_STATES = ('intact', 'lapsed', 'none', 'unknown')


def containment_status(state_text, nft_listing=None, ipt_states=None, hosts_text=None, unit_linked=None,
                       read_error=None):
    """Is the containment applied by kaspersky_contain still in force? Pure; probe_containment reads the host.

    ``state_text``: STATE_FILE (None when absent); ``nft_listing``: ``nft list
    table inet phaseout_contain`` (None when no table); ``ipt_states``: {family:
    parse_iptables_s(...)}; ``hosts_text``: the hosts file; ``unit_linked``:
    whether the boot unit is enabled; ``read_error``: why the ruleset could not
    be read. Returns {'containment': 'intact' | 'lapsed' | 'none' | 'unknown',
    'reasons': [...], 'backend', 'public_dns_blocked', 'resolvers_kept'}.
    """
    ipt_states = ipt_states or {}
    live_block = hosts_block_of(hosts_text or '')
    has_table = nft_listing is not None
    has_chains = any((s or {}).get('chains') or (s or {}).get('jumps') for s in ipt_states.values())
    result = {'containment': 'none', 'reasons': [], 'backend': None, 'public_dns_blocked': [],
              'resolvers_kept': []}
    if read_error:
        result.update(containment='unknown', reasons=['cannot read the firewall ruleset: %s' % read_error])
        return result
    if state_text is None:
        if has_table or has_chains or live_block:
            result['containment'] = 'lapsed'
            result['reasons'].append('phaseout contain rules or hosts entries are present without %s: run the '
                                     'contain phase again (or release it)' % STATE_FILE)
        return result
    try:
        state = json.loads(state_text)
        if not isinstance(state, dict):
            raise ValueError('not an object')
    except ValueError as exc:
        result.update(containment='lapsed', reasons=['%s is unreadable (%s): run the contain phase again'
                                                     % (STATE_FILE, exc)])
        return result
    backend = state.get('backend')
    result.update(backend=backend, public_dns_blocked=list(state.get('public_dns_blocked') or []),
                  resolvers_kept=list(state.get('resolvers_kept') or []))
    wanted = state.get('signature')
    reasons = result['reasons']
    if backend == 'nftables':
        live = parse_nft_table(nft_listing)
        if live is None:
            reasons.append('the nftables table %s is gone (flushed by another tool or a firewall reload)' % TABLE)
        elif live != wanted:
            reasons.append('the rules of the nftables table %s differ from what contain applied' % TABLE)
    elif backend == 'iptables':
        families = sorted({key.split('/')[0] for key in (wanted or {})})
        live = {k: v for k, v in ipt_signature(ipt_states).items() if k.split('/')[0] in families}
        if not live:
            reasons.append('the iptables chains %s are gone (flushed by another tool)'
                           % ' and '.join(IPT_CHAINS.values()))
        elif live != wanted:
            reasons.append('the rules of the iptables chains differ from what contain applied')
        elif not all(ipt_jumps_ok(ipt_states.get(f) or {}) for f in families):
            reasons.append('the jumps to the phaseout chains from OUTPUT and INPUT are missing or duplicated')
    wanted_hosts = state.get('hosts_block_sha256')
    if wanted_hosts and not live_block:
        reasons.append('the phaseout block of %s is gone' % state.get('hosts_path', '/etc/hosts'))
    elif wanted_hosts and sha256_lines(live_block) != wanted_hosts:
        reasons.append('the phaseout block of %s was changed' % state.get('hosts_path', '/etc/hosts'))
    if state.get('persisted') and unit_linked is False:
        reasons.append('%s is no longer enabled: the rules will not come back after a reboot' % UNIT_NAME)
    result['containment'] = 'lapsed' if reasons else 'intact'
    return result


def probe_containment(run, read, which, exists, hosts_path='/etc/hosts', state_file=None, unit_link=None):
    """Read the host and return containment_status(...). Read-only.

    For kaspersky_info (one call per host) and ``kaspersky_contain state=query``:
    ``run(argv)`` -> (rc, stdout, stderr) (module.run_command, with a timeout if
    the caller has one), ``read(path)`` -> text or None, ``which(name)`` -> path
    or None (module.get_bin_path), ``exists(path)`` -> bool (os.path.lexists).
    Runs at most one listing per firewall tool the state file names (``nft list
    table inet phaseout_contain``, or ``iptables -w -S`` and ``ip6tables -w -S``);
    without a state file, the one that would show leftovers. Needs root.
    """
    state_text = read(state_file or STATE_FILE)
    backend = None
    if state_text is not None:
        try:
            state = json.loads(state_text)
            backend = state.get('backend')
            hosts_path = state.get('hosts_path') or hosts_path
        except (ValueError, AttributeError):
            pass
    nft_listing, ipt_states, error = None, {}, None
    nft = which('nft')
    if nft and backend in (None, 'nftables'):
        rc, out, err = run([nft, 'list', 'table', TABLE_FAMILY, TABLE_NAME])
        if rc == 0:
            nft_listing = out
        elif not ('No such file or directory' in err or 'does not exist' in err):
            error = (err or out).strip() or 'nft rc %s' % rc
    if backend == 'iptables' or (backend is None and not nft):
        for family, name in (('ip', 'iptables'), ('ip6', 'ip6tables')):
            tool = which(name)
            if tool and error is None:
                rc, out, err = run([tool, '-w', '-S'])
                if rc == 0:
                    ipt_states[family] = parse_iptables_s(out)
                elif family == 'ip':
                    error = (err or out).strip() or '%s rc %s' % (name, rc)
    return containment_status(state_text, nft_listing, ipt_states, read(hosts_path), exists(unit_link or UNIT_LINK),
                              error)
