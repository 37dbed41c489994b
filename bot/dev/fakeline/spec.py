"""Load LINE's OpenAPI documents and validate requests against them.

Discriminators are enforced: every schema ``S`` with ``discriminator.mapping``
is rewritten into a dispatcher (custom keyword ``x-fake-dispatch``) that
requires the discriminator property, checks its value against the mapping keys
and validates the object against the mapped schema.  The mapped schemas'
``allOf: [{$ref: S}, ...]`` are redirected to a copy ``S__base`` without the
dispatcher (no infinite recursion) and get an ``x-fake-discriminator-value``
check so that a direct ``$ref`` to e.g. ``FlexBox`` still requires ``type: box``.
"""
from __future__ import annotations

import copy
import json
import logging
import os
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import yaml
from jsonschema import FormatChecker, ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import extend
from openapi_schema_validator import OAS30WriteValidator
from referencing import Registry
from referencing.jsonschema import DRAFT4

log = logging.getLogger(__name__)

HTTP_METHODS = ("get", "post", "put", "delete", "patch")
ROUTE_SKIP = {"webhook.yml", "webhook.yaml"}  # requests *from* LINE, not to it
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class SpecMissingError(FileNotFoundError):
    """The OpenAPI documents needed by ``mode="spec"`` were not found."""


@dataclass
class Issue:
    """One validation problem: where (body/header/query/path/request), pointer, reason."""

    where: str
    pointer: str
    message: str

    @property
    def property(self) -> str:
        """LINE-style property name, e.g. ``messages[0].type``."""
        out = ""
        for part in [p for p in self.pointer.split("/") if p]:
            out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
        return out or self.where

    def describe(self) -> str:
        return f"{self.where} {self.pointer or '/'}: {self.message}"


@dataclass
class OpMatch:
    """A request matched to an operation."""

    operation_id: str
    method: str
    template: str
    path_params: dict[str, str]
    host: str = "api"
    needs_auth: bool = True
    spec: dict[str, Any] = field(default_factory=dict, repr=False)
    source: str = ""


def is_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(_UUID_RE.match(value))


_FORMATS = FormatChecker()
_FORMATS.checkers.update(OAS30WriteValidator.FORMAT_CHECKER.checkers)
_FORMATS.checks("uuid")(is_uuid)


def _dispatch(validator: Any, spec: dict[str, Any], instance: Any, schema: Any) -> Iterator[ValidationError]:
    prop, name, mapping = spec["propertyName"], spec["schema"], spec["mapping"]
    if not validator.is_type(instance, "object"):
        yield from validator.descend(instance, {"$ref": spec["base"]})
        return
    if prop not in instance:
        yield ValidationError(f"missing discriminator property {prop!r} of {name} "
                              f"(one of {sorted(mapping)})")
        return
    value = instance[prop]
    if not isinstance(value, str) or value not in mapping:
        yield ValidationError(f"{value!r} is not a valid {name}.{prop}; the discriminator "
                              f"mapping allows {sorted(mapping)}", path=[prop])
        return
    yield from validator.descend(instance, {"$ref": mapping[value]}, schema_path=value)


def _discriminator_value(validator: Any, spec: dict[str, Any], instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    prop, values = spec["propertyName"], spec["values"]
    if prop not in instance:
        yield ValidationError(f"missing discriminator property {prop!r} (must be one of {values} "
                              f"for {spec['schema']})")
    elif instance[prop] not in values:
        yield ValidationError(f"{instance[prop]!r} is not allowed here: {spec['schema']} requires "
                              f"{prop} in {values}", path=[prop])


StrictValidator = extend(OAS30WriteValidator, {"x-fake-dispatch": _dispatch,
                                               "x-fake-discriminator-value": _discriminator_value})


def _rewrite_discriminators(schemas: dict[str, Any], uri: str) -> dict[str, Any]:
    """Return a copy of ``components.schemas`` with dispatching discriminators."""
    out = copy.deepcopy(schemas)
    ref = lambda name: f"{uri}#/components/schemas/{name}"  # noqa: E731
    bases = {n: s["discriminator"] for n, s in schemas.items()
             if isinstance(s, dict) and isinstance(s.get("discriminator"), dict) and s["discriminator"].get("mapping")}
    for name, disc in bases.items():
        base = out[name]
        base.pop("discriminator", None)
        out[f"{name}__base"] = base
        mapping = {k: ref(v.rsplit("/", 1)[-1]) for k, v in disc["mapping"].items()}
        out[name] = {"x-fake-dispatch": {"schema": name, "propertyName": disc["propertyName"],
                                         "mapping": mapping, "base": ref(f"{name}__base")}}
    for name, disc in bases.items():
        targets: dict[str, list[str]] = {}
        for key, target in disc["mapping"].items():
            targets.setdefault(target.rsplit("/", 1)[-1], []).append(key)
        for target, keys in targets.items():
            sub = out.get(f"{target}__base" if target in bases else target)
            if not isinstance(sub, dict):
                raise ValueError(f"discriminator of {name} maps to unknown schema {target}")
            inherits = False
            for item in sub.get("allOf", []):
                if item.get("$ref") == f"#/components/schemas/{name}":
                    item["$ref"] = f"#/components/schemas/{name}__base"
                    inherits = True
            if inherits:
                sub["x-fake-discriminator-value"] = {"schema": target, "propertyName": disc["propertyName"],
                                                     "values": keys}
    return out


def _coerce(value: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    if kind == "boolean":
        return {"true": True, "false": False}.get(value, value)
    return value


class SpecBundle:
    """All operations and schemas of the documents in one directory."""

    def __init__(self, spec_dir: Path) -> None:
        self.spec_dir = spec_dir
        self.docs: dict[str, dict[str, Any]] = {}
        resources = []
        routes: list[tuple[int, int, str, re.Pattern[str], str, dict[str, Any]]] = []
        files = sorted(p for p in spec_dir.iterdir() if p.suffix in (".yml", ".yaml"))
        if not any(p.name.startswith("messaging-api") for p in files):
            raise SpecMissingError(f"messaging-api.yml not found in {spec_dir}")
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        for path in files:
            doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
            uri = f"urn:line-openapi:{path.name}"
            doc["servers"] = [{"url": "/"}]  # match against the fake's own URL
            schemas = (doc.get("components") or {}).get("schemas") or {}
            doc.setdefault("components", {})["schemas"] = _rewrite_discriminators(schemas, uri)
            self.docs[path.name] = doc
            resources.append((uri, DRAFT4.create_resource(doc)))
            if path.name in ROUTE_SKIP:
                continue
            for template, item in (doc.get("paths") or {}).items():
                regex = re.compile("^" + re.sub(r"\\\{[^}/]+\\\}", "([^/]+)", re.escape(template)) + "$")
                nparams = template.count("{")
                routes.append((nparams, -len(template), template, regex, path.name, item))
        routes.sort(key=lambda r: (r[0], r[1]))
        self._routes = routes
        self.registry: Registry = Registry().with_resources(resources)
        self._validators: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- schemas -------------------------------------------------------------------
    def validator(self, ref: str) -> Any:
        """A cached validator for an absolute ref (``urn:line-openapi:<file>#/...``)."""
        with self._lock:
            val = self._validators.get(ref)
            if val is None:
                val = StrictValidator({"$ref": ref}, registry=self.registry, format_checker=_FORMATS)
                self._validators[ref] = val
            return val

    def validate_schema(self, filename: str, schema_name: str, instance: Any) -> list[Issue]:
        """Validate ``instance`` against a named component schema (e.g. webhook events)."""
        ref = f"urn:line-openapi:{filename}#/components/schemas/{schema_name}"
        return _errors_to_issues(self.validator(ref).iter_errors(instance), "body")

    def _schema_validator(self, source: str, schema: Mapping[str, Any]) -> Any:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            return self.validator(f"urn:line-openapi:{source}{ref}")
        key = f"inline:{source}:{id(schema)}"
        with self._lock:
            val = self._validators.get(key)
            if val is None:
                val = StrictValidator(_absolutize(schema, f"urn:line-openapi:{source}"),
                                      registry=self.registry, format_checker=_FORMATS)
                self._validators[key] = val
            return val

    # -- operations -----------------------------------------------------------------
    def match(self, method: str, path: str) -> OpMatch | None:
        """Find the operation for ``method path``; ``None`` if the spec has none."""
        method = method.lower()
        for _, _, template, regex, source, item in self._routes:
            m = regex.match(path)
            if not m or method not in item:
                continue
            op = item[method]
            names = re.findall(r"\{([^}/]+)\}", template)
            params = {n: urllib.parse.unquote(v) for n, v in zip(names, m.groups())}
            doc = self.docs[source]
            servers = op.get("servers") or item.get("servers") or []
            host = "api-data" if any("api-data" in s.get("url", "") for s in servers) else "api"
            security = op.get("security", doc.get("security", []))
            op_id = op.get("operationId", f"{method} {template}")
            spec = dict(op, parameters=[*item.get("parameters", []), *op.get("parameters", [])])
            return OpMatch(op_id, method.upper(), template, params, host, bool(security), spec, source)
        return None

    def allowed_methods(self, path: str) -> list[str]:
        return sorted({m.upper() for _, _, _, rx, _, item in self._routes if rx.match(path)
                       for m in item if m in HTTP_METHODS})

    def check(self, op: OpMatch, headers: Mapping[str, str], query: Mapping[str, list[str]],
              body: bytes, content_type: str | None) -> list[Issue]:
        """Validate parameters and body of a matched request."""
        issues: list[Issue] = []
        doc = self.docs[op.source]
        for param in op.spec.get("parameters", []):
            if "$ref" in param:
                param = _resolve_local(doc, param["$ref"])
            issues.extend(self._check_param(op, param, headers, query))
        issues.extend(self._check_body(op, body, content_type))
        return issues

    def _check_param(self, op: OpMatch, param: Mapping[str, Any], headers: Mapping[str, str],
                     query: Mapping[str, list[str]]) -> list[Issue]:
        where, name = param.get("in"), param["name"]
        schema = param.get("schema") or {}
        if where == "path":
            raw: Any = op.path_params.get(name)
        elif where == "query":
            values = query.get(name)
            if values and schema.get("type") == "array":
                raw = [_coerce(v, schema.get("items") or {}) for v in values]
            else:
                raw = values[-1] if values else None
        elif where == "header":
            raw = headers.get(name.lower())
        else:
            return []
        if raw is None:
            return [Issue(where, name, "required parameter is missing")] if param.get("required") else []
        if isinstance(raw, str):
            raw = _coerce(raw, schema)
        val = self._schema_validator(op.source, schema)
        return [Issue(where, f"{name}{i.pointer}", i.message)
                for i in _errors_to_issues(val.iter_errors(raw), where)]

    def _check_body(self, op: OpMatch, body: bytes, content_type: str | None) -> list[Issue]:
        rb = op.spec.get("requestBody")
        if rb and "$ref" in rb:
            rb = _resolve_local(self.docs[op.source], rb["$ref"])
        if not rb:
            return []
        if not body:
            return [Issue("body", "", "request body is required")] if rb.get("required") else []
        content = rb.get("content") or {}
        media = (content_type or "").split(";")[0].strip().lower()
        chosen = _pick_media(media, content)
        if chosen is None:
            return [Issue("header", "Content-Type",
                          f"content type {media or '(none)'!r} not accepted; expected one of {sorted(content)}")]
        schema = (content[chosen] or {}).get("schema")
        if not schema:
            return []
        if "json" in chosen:
            try:
                instance: Any = json.loads(body)
            except ValueError as exc:
                return [Issue("body", "", f"malformed JSON: {exc}")]
        elif chosen == "application/x-www-form-urlencoded":
            instance = _parse_form(body, schema, self.docs[op.source])
        else:
            return []  # binary / multipart bodies are not schema-checked
        return _errors_to_issues(self._schema_validator(op.source, schema).iter_errors(instance), "body")


def _pick_media(media: str, content: Mapping[str, Any]) -> str | None:
    if media in content:
        return media
    for key in content:
        if key == "*/*" or (key.endswith("/*") and media.startswith(key[:-1])):
            return key
    return None


def _absolutize(node: Any, uri: str) -> Any:
    if isinstance(node, dict):
        return {k: (f"{uri}{v}" if k == "$ref" and isinstance(v, str) and v.startswith("#")
                    else _absolutize(v, uri)) for k, v in node.items()}
    if isinstance(node, list):
        return [_absolutize(v, uri) for v in node]
    return node


def _resolve_local(doc: Mapping[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _parse_form(body: bytes, schema: Mapping[str, Any], doc: Mapping[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        schema = _resolve_local(doc, schema["$ref"])
    props = schema.get("properties") or {}
    pairs = urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: _coerce(v, props.get(k) or {}) for k, v in pairs}


def _errors_to_issues(errors: Iterable[ValidationError], where: str) -> list[Issue]:
    issues: list[Issue] = []
    seen: set[tuple[str, str]] = set()
    for err in errors:
        message = _short_message(err)
        if err.context:
            inner = best_match(err.context)
            inner_ptr = "/" + "/".join(str(p) for p in inner.absolute_path)
            message = f"{message} (closest: {inner.message} at {inner_ptr})"
        pointer = "/" + "/".join(str(p) for p in err.absolute_path) if err.absolute_path else ""
        if (pointer, message) not in seen:
            seen.add((pointer, message))
            issues.append(Issue(where, pointer, message[:500]))
    return issues


def _short_message(err: ValidationError) -> str:
    kind, limit, inst = err.validator, err.validator_value, err.instance
    if kind in ("maxItems", "minItems") and isinstance(inst, list):
        return f"array has {len(inst)} items; {kind} is {limit}"
    if kind in ("maxLength", "minLength") and isinstance(inst, str):
        return f"string has {len(inst)} characters; {kind} is {limit}"
    return err.message if len(err.message) <= 300 else err.message[:297] + "..."


def find_spec_dir(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """``explicit``, else ``$LINE_OPENAPI_DIR``, else ``<repo>/../shared/line-openapi`` (or None).

    An explicit directory or the environment variable that lacks the documents is an error."""
    chosen = explicit or os.environ.get("LINE_OPENAPI_DIR")
    if chosen:
        if not (Path(chosen) / "messaging-api.yml").is_file():
            raise SpecMissingError(f"no messaging-api.yml in {chosen} (from "
                                   f"{'spec_dir' if explicit else 'LINE_OPENAPI_DIR'})")
        return Path(chosen).resolve()
    return _DEFAULT_DIR.resolve() if (_DEFAULT_DIR / "messaging-api.yml").is_file() else None


_DEFAULT_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "line-openapi"
_CACHE: dict[Path, SpecBundle] = {}
_CACHE_LOCK = threading.Lock()


def load_spec(spec_dir: str | os.PathLike[str] | None = None) -> SpecBundle:
    """Load (once per process) the documents; raise SpecMissingError if absent."""
    found = find_spec_dir(spec_dir)
    if found is None:
        raise SpecMissingError(
            f"LINE OpenAPI documents not found: set LINE_OPENAPI_DIR or put them in {_DEFAULT_DIR} "
            "(or use FakeLine(mode='sdk'))")
    with _CACHE_LOCK:
        bundle = _CACHE.get(found)
        if bundle is None:
            log.debug("loading LINE OpenAPI documents from %s", found)
            bundle = _CACHE[found] = SpecBundle(found)
        return bundle
