"""`commonhub`: a thin shell over the same factories the tests use.

Every verb has --help, prints a clear message on failure and exits non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import secrets
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from federation.errors import FederationError
from federation.keys import load_private_key_pem, public_key_to_pem
from hub import demo
from hub.app import create_app
from hub.keyring import MissingKey
from hub.neighbours import discovery, health
from hub.neighbours import service as neighbour_service
from hub.runtime import Hub, open_hub
from hub.services import follows, keys, posts
from hub.settings import Settings, SettingsError, load_settings, seed_list
from hub.setup import init_hub
from hub.store import audit, tokens
from hub.store import backup as backups
from hub.store import follows as follow_store
from hub.store import jobs as job_store
from hub.store import keys as key_store
from hub.store import neighbours as neighbour_store
from hub.store import staff as staff_store
from hub.store.db import Database, StoreError


class CliError(Exception):
    """A failure the user can act on; printed without a traceback."""


def _home(args: argparse.Namespace) -> Path:
    home = args.home or os.environ.get("COMMONHUB_HOME")
    if not home:
        raise CliError("say which hub: --home DIR (or set COMMONHUB_HOME)")
    return Path(home)


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    given = {k: v for k, v in overrides.items() if v is not None}
    return load_settings(_home(args), overrides=given)


# init ---------------------------------------------------------------------------------------
async def _init(args: argparse.Namespace) -> str:
    home = _home(args)
    settings = await init_hub(home, domain=args.domain, name=args.name,
                              display_name=args.display_name or "", summary=args.summary or "",
                              dev=args.dev)
    return (f"Initialised hub @{settings.name}@{settings.domain} in {home}\n"
            f"Serve it with: commonhub serve --home {home}")


# serve --------------------------------------------------------------------------------------
def _serve(args: argparse.Namespace) -> str:
    settings = _settings(args, host=args.host, port=args.port)
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every wake-up
    lock = backups.lock_home(settings.home)  # held until exit: `restore` refuses while it is
    print(f"commonhub: @{settings.name}@{settings.domain} on "
          f"http://{settings.host}:{settings.port}/ (public URL {settings.base_url}/)", flush=True)
    web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None,
                access_log=None)
    lock.close()
    return "stopped"


# backup and restore (see docs/operations.md) ----------------------------------------------------
def _backup(args: argparse.Namespace) -> str:
    settings = _settings(args)
    target = Path(args.to) if args.to else backups.default_backup_path(settings.home)
    info = backups.backup_database(settings.database_path, target)
    return f"Backed up to {info.path} ({info.size:,} bytes, schema {info.schema_version})"


async def _restore(args: argparse.Namespace) -> str:
    settings = _settings(args)
    info = backups.check_restorable(Path(args.file))
    with backups.lock_home(settings.home):
        _confirm(args, f"Replace the database of {settings.home} with {info.path}?")
        kept = backups.restore_database(info.path, settings.database_path)
        lines = [f"Restored {info.path} (schema {info.schema_version}) into "
                 f"{settings.database_path}",
                 f"The previous database is kept at {kept}" if kept else "(no database before)"]
        try:
            lines += await _after_restore(settings.database_path)
        except (StoreError, CliError) as exc:
            raise CliError(f"{exc}\nThe previous database is kept at {kept}") from exc
    return "\n".join(lines)


def _confirm(args: argparse.Namespace, question: str) -> None:
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise CliError("restore replaces the hub's database: say --yes to confirm "
                       "(standard input is not a terminal)")
    if input(f"{question} [y/N] ").strip().lower() not in {"y", "yes"}:
        raise CliError("nothing was restored")


async def _after_restore(path: Path) -> list[str]:
    """Upgrade an older backup to this code's schema, then check it as `check` would."""
    db = await Database.open(path)
    try:
        applied = await db.migrate()
        integrity = await db.integrity_check()
        problems = await _check_keys(db)
    finally:
        await db.close()
    if integrity != "ok" or problems:
        raise CliError("\n".join([f"restored, but: integrity {integrity}", *problems]))
    return [("Applied migrations: " + ", ".join(applied)) if applied
            else "Migrations: up to date", "Integrity and keys: ok"]


# verbs that work on an open hub ---------------------------------------------------------------
async def _with_hub(args: argparse.Namespace, action: Callable[[Hub], Coroutine[Any, Any, str]],
                    *, migrate: bool = True) -> str:
    async with open_hub(_settings(args), migrate=migrate) as hub:
        return await action(hub)


async def _post(args: argparse.Namespace) -> str:
    async def act(hub: Hub) -> str:
        post = await posts.create_post(hub, args.text)
        queued = len(await follow_store.follower_inboxes(hub.db))
        return (f"Published {hub.urls.post(post.uuid)}\n"
                f"Queued for {queued} inbox(es); the running hub delivers them.")
    return await _with_hub(args, act)


async def _token_create(args: argparse.Namespace) -> str:
    async def act(hub: Hub) -> str:
        token = secrets.token_urlsafe(32)
        await tokens.add_token(hub.db, token, args.label)
        return f"{token}\n(keep it secret: it is shown once and only its hash is stored)"
    return await _with_hub(args, act)


async def _token_list(args: argparse.Namespace) -> str:
    async def act(hub: Hub) -> str:
        rows = await tokens.list_tokens(hub.db)
        lines = [f"{r['id']}\t{r['label']}\t{'revoked' if r['revoked_at'] else 'active'}"
                 for r in rows]
        return "\n".join(lines) or "no tokens"
    return await _with_hub(args, act)


async def _token_revoke(args: argparse.Namespace) -> str:
    async def act(hub: Hub) -> str:
        if not await tokens.revoke_token(hub.db, args.id):
            raise CliError(f"no active token with id {args.id}")
        return f"revoked token {args.id}"
    return await _with_hub(args, act)


# staff accounts (for the console) -------------------------------------------------------------
def _new_password(args: argparse.Namespace, username: str) -> str:
    """The new password: one line of standard input, or typed twice at a prompt."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CliError("no password on standard input")
    else:
        password = getpass.getpass(f"New password for {username}: ")
        if getpass.getpass("Again: ") != password:
            raise CliError("the two passwords differ; nothing was changed")
    staff_store.check_password(password, username)
    return password


async def _staff_add(args: argparse.Namespace) -> str:
    username = staff_store.normalise_username(args.username)
    role = staff_store.check_role(args.role)
    password = _new_password(args, username)

    async def act(hub: Hub) -> str:
        member = await staff_store.add_staff(hub.db, username, password, role)
        await audit.record(hub.db, None, "staff.add", member.username, {"role": member.role})
        return (f"Added {member.role} {member.username}; they log in at "
                f"{hub.urls.base}/console/login")
    return await _with_hub(args, act)


async def _staff_list(args: argparse.Namespace) -> str:
    async def act(hub: Hub) -> str:
        lines = [f"{m.username}\t{m.role}\t{'disabled' if m.disabled_at else 'active'}\t"
                 f"last login: {_when(m.last_login_at)}"
                 for m in await staff_store.list_staff(hub.db)]
        return "\n".join(lines) or "no staff accounts (add one with `commonhub staff add`)"
    return await _with_hub(args, act)


def _when(ts: float | None) -> str:
    return "never" if ts is None else time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))


async def _staff_disable(args: argparse.Namespace) -> str:
    async def act(hub: Hub) -> str:
        member = await staff_store.disable_staff(hub.db, args.username)
        await audit.record(hub.db, None, "staff.disable", member.username)
        return f"Disabled {member.username}; their console sessions have ended."
    return await _with_hub(args, act)


async def _staff_passwd(args: argparse.Namespace) -> str:
    async def act(hub: Hub) -> str:
        found = await staff_store.get_staff(hub.db, args.username)
        if found is None:
            raise CliError(f"no staff member called {args.username!r}")
        member = await staff_store.set_password(hub.db, found.username,
                                                _new_password(args, found.username))
        await audit.record(hub.db, None, "staff.passwd", member.username)
        return f"Changed the password of {member.username}; their console sessions have ended."
    return await _with_hub(args, act)


async def _follow(args: argparse.Namespace) -> str:
    async def act(hub: Hub) -> str:
        actor_id = await follows.follow(hub, args.target)
        return f"Follow sent to {actor_id}; the running hub delivers it."
    return await _with_hub(args, act)


async def _unfollow(args: argparse.Namespace) -> str:
    async def act(hub: Hub) -> str:
        await follows.unfollow(hub, args.target)
        return f"Stopped following {args.target}"
    return await _with_hub(args, act)


async def _keys_rotate(args: argparse.Namespace) -> str:
    async def act(hub: Hub) -> str:
        queued = await keys.rotate_key(hub)
        return (f"New key for {hub.urls.actor}; Update queued for {queued} inbox(es). "
                "A running hub picks the key up within 30 seconds.")
    return await _with_hub(args, act)


async def _migrate(args: argparse.Namespace) -> str:
    db = await Database.open(_settings(args).database_path)
    try:
        applied = await db.migrate()
    finally:
        await db.close()
    return "applied: " + ", ".join(applied) if applied else "the database is up to date"


async def _check(args: argparse.Namespace) -> str:
    settings = _settings(args)
    problems, notes, warnings = [], [f"settings: ok ({settings.config_path})"], []
    if not settings.database_path.exists():
        raise CliError(f"no database at {settings.database_path}: run `commonhub init`")
    db = await Database.open(settings.database_path)
    try:
        integrity = await db.integrity_check()
        (notes if integrity == "ok" else problems).append(f"database integrity: {integrity}")
        pending = await db.pending_migrations()
        if pending:
            problems.append(f"migrations not applied: {', '.join(pending)} (commonhub migrate)")
        else:
            notes.append("migrations: up to date")
            problems += await _check_keys(db)
            warnings = await _failed_jobs(db, since=time.time() - FAILED_JOBS_DAYS * 86400)
    finally:
        await db.close()
    if settings.dev:
        notes.append("mode: development (http, loopback fetches allowed) - not for production")
    if problems:
        raise CliError("\n".join([*notes, *warnings, "PROBLEMS:", *problems]))
    return "\n".join([*notes, "keys: ok", *warnings,
                      "no problems; see the warning above" if warnings else "all good"])


FAILED_JOBS_DAYS = 7


async def _failed_jobs(db: Database, *, since: float) -> list[str]:
    """A warning (not a problem: it may be long mended) naming the scheduled jobs that gave
    up lately (an email the mail server kept refusing, a peer that stayed away)."""
    failed = await job_store.failed_since(db, since)
    if not failed:
        return []
    kinds = ", ".join(f"{kind} {count}" for kind, count in failed.counts.items())
    return [f"warning: scheduled jobs failed in the last {FAILED_JOBS_DAYS} days: {kinds}; "
            f"the latest ({failed.latest_key}): {failed.latest_error}"]


async def _check_keys(db: Database) -> list[str]:
    problems = []
    for actor in ("hub", "instance"):
        pair = await key_store.current_key(db, actor)
        if pair is None:
            problems.append(f"no current {actor} key")
            continue
        try:
            private = load_private_key_pem(pair[0])
        except ValueError as exc:
            problems.append(f"{actor} private key unreadable: {exc}")
            continue
        if public_key_to_pem(private.public_key()).strip() != pair[1].strip():
            problems.append(f"{actor} public key does not match its private key")
    return problems


# neighbours (docs/neighbours.md) -------------------------------------------------------------
async def _neighbours_list(args: argparse.Namespace) -> str:
    async def act(hub: Hub) -> str:
        lines = [health.describe(peer) for peer in await health.peer_health(hub)]
        blocked = await neighbour_store.domains(hub.db, "block")
        allowed = await neighbour_store.domains(hub.db, "allow")
        seeds = [*seed_list(hub.settings), *await neighbour_store.list_seeds(hub.db)]
        lines += [f"seed\t{seed}" for seed in seeds]
        lines += [f"blocked\t{d}" for d in blocked] + [f"allowed\t{d}" for d in allowed]
        return "\n".join(lines) or "no neighbours known yet (add one: commonhub neighbours add)"
    return await _with_hub(args, act)


async def _neighbours_add(args: argparse.Namespace) -> str:
    async def act(hub: Hub) -> str:
        row = await discovery.add(hub, args.target)
        where = "" if row.distance_km is None else f", {row.distance_km:.1f} km away"
        return f"{row.actor_id}: {row.state}{where}; every walk now starts from it."
    return await _with_hub(args, act)


async def _neighbours_walk(args: argparse.Namespace) -> str:
    async def act(hub: Hub) -> str:
        report = await discovery.Discovery(hub).walk()
        return (f"visited {report.visited} hub(s), recognised {report.recognised}, "
                f"{report.failed} failed; paired {len(report.paired)}, "
                f"unpaired {len(report.unpaired)}")
    return await _with_hub(args, act)


def _neighbour_action(action: Callable[[Hub, str], Coroutine[Any, Any, Any]],
                      done: str) -> Callable[[argparse.Namespace], Coroutine[Any, Any, str]]:
    async def run(args: argparse.Namespace) -> str:
        async def act(hub: Hub) -> str:
            await action(hub, args.target)
            return done.format(target=args.target)
        return await _with_hub(args, act)
    return run


async def _announce(hub: Hub, target: str, on: bool) -> None:
    await neighbour_service.set_announce(hub, target, on)


# demo -------------------------------------------------------------------------------------------
def _demo(args: argparse.Namespace) -> str:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return demo.main(args.hubs, args.dir, lambda line: print(line, flush=True))
    except demo.DemoError as exc:
        raise CliError(str(exc)) from exc


# argument parsing -----------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commonhub", description="Run and operate a commonhub community hub.")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    def verb(name: str, help_text: str, run: Callable[..., Any]) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--home", help="the hub's folder (default: $COMMONHUB_HOME)")
        sub.set_defaults(run=run)
        return sub

    init = verb("init", "Create a new hub: settings, database, keys and actor.", _init)
    init.add_argument("--domain", required=True, help="public HOST[:PORT] of the hub")
    init.add_argument("--name", required=True, help="the hub's username (a-z, 0-9, _)")
    init.add_argument("--display-name", help="the hub's name as people see it")
    init.add_argument("--summary", help="a sentence about the hub")
    init.add_argument("--dev", action="store_true", help="development mode (http, loopback)")
    serve = verb("serve", "Serve the hub over HTTP (put a TLS proxy in front).", _serve)
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (default 8080)")
    post = verb("post", "Publish a news post (a Note) to the hub's followers.", _post)
    post.add_argument("text", help="the post's text (blank lines make paragraphs)")
    follow = verb("follow", "Follow another hub or fediverse account.", _follow)
    follow.add_argument("target", help="actor URL or @user@host")
    unfollow = verb("unfollow", "Stop following an account.", _unfollow)
    unfollow.add_argument("target", help="actor URL or @user@host")
    demo_verb = verb("demo", "Run a few hubs on loopback with sample data, until Ctrl-C.",
                     _demo)
    demo_verb.add_argument("--hubs", type=int, default=3, help="how many hubs (2-10, default 3)")
    demo_verb.add_argument("--dir", help="keep their data in this new folder (default: a "
                                         "temporary one, removed at the end)")
    verb("migrate", "Apply database migrations not yet applied.", _migrate)
    verb("check", "Check settings, database and keys; non-zero exit on a problem.", _check)
    backup = verb("backup", "Copy the database while the hub may be serving.", _backup)
    backup.add_argument("--to", help="the new file (default HOME/backups/commonhub-DATE.db)")
    restore = verb("restore", "Replace the database with a backup; the hub must be stopped.",
                   _restore)
    restore.add_argument("file", help="a file made by `commonhub backup`")
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _add_group(verbs, verb, "token", "Manage staff API tokens.", [
        ("create", "Create a staff API token (printed once).", _token_create,
         [("--label", {"default": "staff", "help": "what the token is for"})]),
        ("list", "List tokens (never their values).", _token_list, []),
        ("revoke", "Revoke a token by id.", _token_revoke, [("id", {"type": int})])])
    password_stdin = ("--password-stdin", {
        "action": "store_true", "help": "read the password from one line of standard input"})
    _add_group(verbs, verb, "staff", "Manage staff accounts for the console.", [
        ("add", "Create a staff account; asks for its password twice.", _staff_add,
         [("username", {"help": "2-40 characters: a-z, 0-9, _ . -"}),
          ("--role", {"default": "helper",
                      "help": "coordinator (manages staff, sees volunteers' details) or "
                              "helper (the default)"}),
          password_stdin]),
        ("list", "List staff accounts, their roles and last logins.", _staff_list, []),
        ("disable", "Disable an account and end its sessions.", _staff_disable,
         [("username", {})]),
        ("passwd", "Set a new password; ends the account's sessions.", _staff_passwd,
         [("username", {}), password_stdin])])
    target = ("target", {"help": "a known hub: actor URL, @name@host or host[:port]"})
    domain = ("target", {"help": "a domain (example.org, covering subdomains; or host:port)"})
    _add_group(verbs, verb, "neighbours", "Neighbouring hubs: discovery and pairing.", [
        ("list", "Known hubs, their state and health; seeds, blocks and allows.",
         _neighbours_list, []),
        ("add", "Visit a hub by handle or URL now, and start every walk from it.",
         _neighbours_add, [("target", {"help": "@name@host or a URL"})]),
        ("walk", "Walk the neighbourhood once now.", _neighbours_walk, []),
        ("pause", "Stop following a hub for now; discovery leaves it be.",
         _neighbour_action(neighbour_service.pause, "paused {target}"), [target]),
        ("resume", "Let discovery decide about a paused or unpaired hub again.",
         _neighbour_action(neighbour_service.resume, "resumed {target}"), [target]),
        ("unpair", "Unfollow a hub and remove it as a follower; not paired again until added.",
         _neighbour_action(neighbour_service.unpair, "unpaired {target}"), [target]),
        ("announce", "Relay a neighbour's new events to this hub's followers (Announce).",
         _neighbour_action(lambda hub, t: _announce(hub, t, True),
                           "{target}'s new events will be announced"), [target]),
        ("quiet", "Stop relaying a neighbour's events.",
         _neighbour_action(lambda hub, t: _announce(hub, t, False),
                           "{target}'s events are no longer announced"), [target]),
        ("block", "Never contact a domain again, refuse its activities, drop its follows.",
         _neighbour_action(neighbour_service.block, "blocked {target}"), [domain]),
        ("allow", "Pair with a domain's hubs whatever the distance.",
         _neighbour_action(neighbour_service.allow, "allowed {target}"), [domain]),
        ("clear", "Lift a block or an allow.",
         _neighbour_action(neighbour_service.clear_policy, "cleared {target}"), [domain])])
    _add_group(verbs, verb, "keys", "Manage the hub's signing keys.", [
        ("rotate", "New key pair; publishes an actor Update so peers keep verifying.",
         _keys_rotate, [])])
    return parser


def _add_group(verbs: Any, verb: Callable[..., argparse.ArgumentParser], name: str, help_text: str,
               actions: Sequence[tuple[str, str, Callable[..., Any], list]]) -> None:
    group = verbs.add_parser(name, help=help_text, description=help_text)
    sub = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, action_help, run, arguments in actions:
        parser = sub.add_parser(action, help=action_help, description=action_help)
        parser.add_argument("--home", help="the hub's folder (default: $COMMONHUB_HOME)")
        parser.set_defaults(run=run)
        for flag, options in arguments:
            parser.add_argument(flag, **options)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result = args.run(args)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
    except (CliError, SettingsError, StoreError, MissingKey, FederationError) as exc:
        print(f"commonhub: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if result:
        print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
