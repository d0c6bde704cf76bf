"""Validates rendered Kubernetes objects against the API's JSON schemas, offline.

    python validate-k8s.py --kube-version 1.29.0 --kube-version 1.37.0 rendered.yaml…

Built-in kinds go through kubernetes-validate (the OpenAPI schemas of each Kubernetes
release, bundled in the package) in strict mode: an unknown field is an error, as
`kubectl apply --validate=strict` would make it, rather than a field the API server drops
without a word. Custom resources (monitoring.coreos.com, kafka.strimzi.io) are left to
check-rendered.ts, which has their schemas; any other kind without a schema fails.

Prints one line per problem and a count of the objects validated per kind; exits 1 on any
problem.
"""

import argparse
import collections
import sys

import kubernetes_validate
import yaml

# Validated elsewhere (check-rendered.ts): the operators' CRDs are not in the package.
CUSTOM_GROUPS = ("monitoring.coreos.com/", "kafka.strimzi.io/")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kube-version", action="append", required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    counts: collections.Counter = collections.Counter()
    problems = 0
    for file in args.files:
        with open(file, encoding="utf-8") as stream:
            documents = [d for d in yaml.safe_load_all(stream) if d]
        for document in documents:
            kind = document.get("kind", "?")
            name = f"{kind}/{document.get('metadata', {}).get('name', '?')}"
            if document.get("apiVersion", "").startswith(CUSTOM_GROUPS):
                continue
            for version in args.kube_version:
                try:
                    kubernetes_validate.validate(document, version, strict=True)
                except kubernetes_validate.ValidationError as error:
                    path = ".".join(str(p) for p in error.path) or "(root)"
                    print(f"{file}: {name} (Kubernetes {version}): {path}: {error.message}")
                    problems += 1
                except kubernetes_validate.SchemaNotFoundError:
                    print(f"{file}: {name}: no schema for {document.get('apiVersion')} {kind} "
                          f"in Kubernetes {version}")
                    problems += 1
            counts[kind] += 1

    summary = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
    versions = " and ".join(args.kube_version)
    print(f"  Kubernetes schemas ({versions}, strict): {sum(counts.values())} objects: {summary}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
