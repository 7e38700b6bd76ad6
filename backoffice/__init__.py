"""Back office: the work orders that hotline calls turn into, from dispatch to return visit."""
