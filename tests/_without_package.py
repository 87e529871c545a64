"""Import a module in a fresh interpreter where one package cannot be found."""

import subprocess
import sys


def import_message_without(package: str, module: str) -> str:
    """What ``import module`` says when ``package`` is missing: the ImportError text,
    or ``"imported without <package>"`` when the import succeeds."""
    code = (
        "import sys\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name == {package!r} or name.startswith({package + '.'!r}):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "try:\n"
        f"    import {module}\n"
        "except ImportError as error:\n"
        "    print(error)\n"
        "else:\n"
        f"    print('imported without {package}')\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout
