"""Small shared facts every layer uses, each defined once: times, child processes, settings, file kinds, staff words."""
