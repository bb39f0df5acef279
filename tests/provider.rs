//! Provider clients against fake providers on 127.0.0.1.
