"""Live instances: target selection and the adapters that read and write them."""
