"""The shopper's pages: feed, product, category, search, onboarding, the PWA
files, and the one module that turns card rows into HTML and API cards."""
