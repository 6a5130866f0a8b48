"""The hookwise CDK app: one construct per module; the stack only wires and grants."""
