# Every default of the toolkit, read from lib/Defaults.java, the one place for them: the module
# takes its defaults and the values its option descriptions name from here, so changing a default
# is one edit there. Reads each `public static final int|String NAME = VALUE;` on one line, a String
# being literals and earlier constants joined with +. A constant it cannot read fails the evaluation,
# naming it (DefaultsAgreeTest holds every constant read here to the compiled class).
let
  inherit (builtins) elemAt filter foldl' fromJSON isString map match split;
  file = ../lib/Defaults.java;
  lines = filter isString (split "\n" (builtins.readFile file));
  declarations = filter (m: m != null) (
    map (match "[[:space:]]*public static final (int|String) ([A-Z][A-Z0-9_]*) = (.*);[[:space:]]*") lines
  );
  cannot = name: text: throw "nix/defaults.nix cannot read ${name} in lib/Defaults.java: ${text}";
  # one term of a String: a literal (Java's escapes here are JSON's) or an earlier constant
  term =
    known: name: text:
    if match "\"([^\"\\\\]|\\\\.)*\"" text != null then fromJSON text
    else known.${text} or (cannot name text);
  value =
    known: type: name: text:
    if type == "int" then (if match "[0-9]+" text != null then fromJSON text else cannot name text)
    else builtins.concatStringsSep "" (map (term known name) (filter isString (split " [+] " text)));
in
foldl' (
  known: d:
  known // { ${elemAt d 1} = value known (elemAt d 0) (elemAt d 1) (elemAt d 2); }
) { } declarations
