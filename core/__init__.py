"""What every part of Docbridge shares: settings, errors, ids, tokens, auth, events, extensions."""
