from ppb.cli import main

raise SystemExit(main())
