"""IFC import with IfcOpenShell and GLB export for the viewer."""
