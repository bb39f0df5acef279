//! The seven tools, through the library and the `wingman tool` command.
