// The Kubernetes 1.28 API (L1) classes. `cdk8s import k8s` needs the internet; cdk8s-plus-28 ships
// the same generated classes, so we re-export them from here and code reads like any cdk8s app.
// Importing the module file directly (not the cdk8s-plus-28 index) keeps synth start-up fast.
export * from 'cdk8s-plus-28/lib/imports/k8s';
